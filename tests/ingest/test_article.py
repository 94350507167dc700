from digest.ingest.article import extract_article

PAGE = b"""<html><head><title>Harbour news</title>
<meta property="og:image" content="/img/lead.jpg">
<meta name="description" content="The barrier opened early.">
</head><body><nav>Home | World | Subscribe</nav>
<article><h1>Barrier opens early</h1>
<p>The three-kilometre barrier across the river delta opened on Thursday, a year ahead of
schedule, after a mild winter let crews pour concrete through January and February.</p>
<p>It is designed to protect 40,000 homes from storm surges that have grown more frequent
since 2010, engineers said at the opening ceremony on the northern bank.</p>
</article><footer>Copyright Harbour Herald</footer></body></html>"""


def test_extracts_main_text_without_navigation_and_resolves_the_image():
    article = extract_article(PAGE, "https://herald.example.org/news/barrier")
    assert article.text.startswith("The three-kilometre barrier")
    assert "Subscribe" not in article.text and "Copyright" not in article.text
    assert article.image_url == "https://herald.example.org/img/lead.jpg"
    assert article.description == "The barrier opened early."


def test_a_page_without_text_gives_none():
    assert extract_article(b"<html><body><nav>menu</nav></body></html>") is None
