// The catalog's behaviour: search and filters on the index, the version selector on a contract's
// page. Plain JavaScript, no network: the data is in the page itself.
(function () {
  "use strict";

  function words(text) {
    return text.toLowerCase().split(/\s+/).filter(function (w) { return w.length > 0; });
  }

  var list = document.getElementById("contracts");
  if (list) {
    var search = document.getElementById("search");
    var filters = ["kind", "type", "source", "tag"].map(function (name) {
      return { name: name, element: document.getElementById("filter-" + name) };
    });
    var count = document.getElementById("count");
    var items = Array.prototype.slice.call(list.querySelectorAll("li.contract"));
    var apply = function () {
      var wanted = words(search.value);
      var shown = 0;
      items.forEach(function (item) {
        var haystack = item.getAttribute("data-search");
        var ok = wanted.every(function (w) { return haystack.indexOf(w) >= 0; });
        filters.forEach(function (f) {
          var value = f.element.value;
          if (!value) { return; }
          var values = (item.getAttribute("data-" + f.name) || "").split(" ");
          if (values.indexOf(value) < 0) { ok = false; }
        });
        item.hidden = !ok;
        if (ok) { shown += 1; }
      });
      count.textContent = shown + " of " + items.length + " contracts";
    };
    ["input", "change", "search"].forEach(function (type) { search.addEventListener(type, apply); });
    filters.forEach(function (f) { f.element.addEventListener("change", apply); });
    apply();
  }

  var select = document.getElementById("version");
  if (select) {
    var sections = Array.prototype.slice.call(document.querySelectorAll("section.version"));
    var show = function (version) {
      sections.forEach(function (s) { s.hidden = s.getAttribute("data-version") !== version; });
      select.value = version;
    };
    select.addEventListener("change", function () {
      show(select.value);
      history.replaceState(null, "", "#v" + select.value);
    });
    var fromHash = location.hash.indexOf("#v") === 0 ? location.hash.slice(2) : null;
    var known = sections.some(function (s) { return s.getAttribute("data-version") === fromHash; });
    show(known ? fromHash : select.value);
  }
})();
