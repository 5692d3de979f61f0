/* SupportBot website widget. Paste into any page:
 *
 *   <script src="https://desk.example.com/embed.js" defer></script>
 *
 * Optional attributes on that tag:
 *   data-lang="es|en"          widget and button language (default: the visitor's browser)
 *   data-position="right|left" corner of the launcher (default: right)
 *   data-color="#3e63dd"       launcher colour
 *   data-label="Need help?"    launcher text (default: "Help" / "Ayuda")
 *
 * It adds a launcher button that opens the app's /widget chat in an iframe. The chat runs
 * on the app's own origin: the host page can neither read it nor be read by it.
 */
(function () {
  "use strict";
  if (window.__supportbotWidget) return;
  var script = document.currentScript;
  if (!script || !script.src) return;
  window.__supportbotWidget = true;

  // Same texts as "embed.open" / "embed.close" in supportbot/ui/i18n.py (a test checks).
  var TEXTS = {
    en: {open: "Help", close: "Close", title: "SupportBot chat"},
    es: {open: "Ayuda", close: "Cerrar", title: "Chat de SupportBot"}
  };
  var data = script.dataset;
  var browser = (navigator.language || "en").slice(0, 2).toLowerCase();
  var lang = TEXTS[data.lang] ? data.lang : (TEXTS[browser] ? browser : "en");
  var text = TEXTS[lang];
  var side = data.position === "left" ? "left" : "right";
  var color = /^#[0-9a-fA-F]{3,8}$/.test(data.color || "") ? data.color : "#3e63dd";
  var app = new URL(script.src, document.baseURI).origin;

  var frame = document.createElement("iframe");
  frame.id = "supportbot-frame";
  frame.title = text.title;
  frame.hidden = true;
  frame.setAttribute("allow", "clipboard-write");
  frame.style.cssText = [
    "position:fixed", side + ":16px", "bottom:84px", "z-index:2147483000",
    "width:min(400px,calc(100vw - 32px))", "height:min(640px,calc(100vh - 110px))",
    "border:1px solid rgba(0,0,0,.15)", "border-radius:12px", "background:#fff",
    "box-shadow:0 12px 32px rgba(0,0,0,.25)"
  ].join(";");

  var button = document.createElement("button");
  button.id = "supportbot-launcher";
  button.type = "button";
  button.setAttribute("aria-controls", frame.id);
  button.setAttribute("aria-expanded", "false");
  button.style.cssText = [
    "position:fixed", side + ":16px", "bottom:16px", "z-index:2147483001",
    "min-height:52px", "padding:0 20px", "border:0", "border-radius:26px",
    "background:" + color, "color:#fff", "font:600 16px/1 system-ui,sans-serif",
    "cursor:pointer", "box-shadow:0 6px 16px rgba(0,0,0,.25)"
  ].join(";");
  var label = data.label || text.open;
  button.textContent = label;

  function setOpen(open) {
    if (open && !frame.src) {  // the chat loads on first open, not with the host page
      frame.src = app + "/widget?lang=" + lang;
    }
    frame.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
    button.textContent = open ? text.close : label;
    if (open) frame.focus();
  }

  button.addEventListener("click", function () { setOpen(frame.hidden); });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !frame.hidden) { setOpen(false); button.focus(); }
  });

  function mount() {
    document.body.appendChild(frame);
    document.body.appendChild(button);
  }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
