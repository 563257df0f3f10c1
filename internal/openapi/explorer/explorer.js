// The Cluster API explorer: Swagger UI over the documents the server lists in
// #swagger-ui's data-definitions, with a request interceptor that completes
// a bare token pasted into Authorize to "Api-Token <token>". This file is
// not inline because the page's Content-Security-Policy forbids inline script.
"use strict";

// withTokenPrefix adds the "Api-Token " scheme to an Authorization header
// that holds only a token (no space inside); anything else is left as it is,
// so "Api-Token <token>" pasted whole works too.
function withTokenPrefix(req) {
  var headers = req.headers || {};
  for (var name in headers) {
    if (name.toLowerCase() !== "authorization" || typeof headers[name] !== "string") {
      continue;
    }
    var value = headers[name].trim();
    if (value !== "" && !/\s/.test(value)) {
      value = "Api-Token " + value;
    }
    headers[name] = value;
  }
  return req;
}

window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    urls: JSON.parse(root.dataset.definitions),
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "StandaloneLayout",
    validatorUrl: null, // no calls to an outside validator: the explorer works offline
    requestInterceptor: withTokenPrefix,
  });
});
