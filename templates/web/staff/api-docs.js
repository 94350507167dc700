// Swagger UI for /api/docs. A file of ours rather than an inline script, so that the page's
// CSP allows scripts from this site only. No validator badge: it would call a public server.
window.ui = SwaggerUIBundle({
  url: "/api/openapi.json",
  dom_id: "#swagger-ui",
  validatorUrl: null,
  deepLinking: true,
  layout: "BaseLayout",
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
});
