from digest.cli import app

app()
