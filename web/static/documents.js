// The document page: after an action, focus the result box so it is seen and read out (it carries role=status
// or role=alert). No other behaviour: every action works without JavaScript.
document.addEventListener("DOMContentLoaded", function () {
  var box = document.querySelector("#resultado[data-focus]");
  if (box) {
    box.focus({ preventScroll: true });
    box.scrollIntoView({ block: "start" });
  }
});
