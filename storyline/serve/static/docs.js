// Swagger UI, served from the package (no CDN): reads the OpenAPI document of this server.
(function () {
  var el = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({ url: el.dataset.url, dom_id: "#swagger-ui", deepLinking: true });
})();
