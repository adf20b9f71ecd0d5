// The interactive API reference at /docs: swagger-ui rendering the served OpenAPI document.
// A file of its own, not an inline script, so the page's CSP needs no 'unsafe-inline' for scripts.
window.ui = SwaggerUIBundle({
  url: "/openapi.yaml",
  dom_id: "#swagger-ui",
  presets: [SwaggerUIBundle.presets.apis],
  // Without the standalone preset's top bar, which only offers to load another document.
  layout: "BaseLayout",
  deepLinking: true,
  // No badge fetched from validator.swagger.io: nothing leaves this server.
  validatorUrl: null,
  // The Bearer token stays in this page's memory, never in localStorage.
  persistAuthorization: false,
});
