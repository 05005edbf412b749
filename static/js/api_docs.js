/* The API docs page loads nothing from the internet. Redoc (3.x) always renders an
   "API docs by Redocly" footer whose logo comes from https://cdn.redoc.ly, and has no option to
   turn it off (hideLogo is the API's own x-logo). This guard, loaded before Redoc, drops any
   image address on that host before the browser asks for it; api_docs.css hides the footer. */
(function () {
  "use strict";
  var blocked = /^https?:\/\/cdn\.redoc\.ly\//i;
  var setAttribute = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function (name, value) {
    if (this instanceof HTMLImageElement && String(name).toLowerCase() === "src" && blocked.test(String(value))) return;
    return setAttribute.call(this, name, value);
  };
  var src = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, "src");
  if (src && src.set) {
    Object.defineProperty(HTMLImageElement.prototype, "src", {
      configurable: true,
      enumerable: src.enumerable,
      get: src.get,
      set: function (value) { if (!blocked.test(String(value))) src.set.call(this, value); },
    });
  }
})();
