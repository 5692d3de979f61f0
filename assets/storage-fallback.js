/* Loaded first by every page (app.py's head). A browser that refuses this site its storage
 * (the chat embedded on another site with third-party cookies blocked, or storage turned
 * off) throws on any use of localStorage / sessionStorage, and the page would not render.
 * There, pages get storage kept in memory instead: the chat works, it only does not
 * survive a reload. */
(function () {
  "use strict";
  ["localStorage", "sessionStorage"].forEach(function (name) {
    try {
      window[name].getItem("supportbot-probe");
      return;  // usable
    } catch (refused) { /* fall through */ }
    var items = new Map();
    var memory = {
      getItem: function (key) { return items.has(String(key)) ? items.get(String(key)) : null; },
      setItem: function (key, value) { items.set(String(key), String(value)); },
      removeItem: function (key) { items.delete(String(key)); },
      clear: function () { items.clear(); },
      key: function (index) { return Array.from(items.keys())[index] || null; },
      get length() { return items.size; }
    };
    try {
      Object.defineProperty(window, name, {value: memory, configurable: true});
    } catch (cannot) { /* leave the browser's behaviour */ }
  });
})();
