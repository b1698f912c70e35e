/* SPDX-License-Identifier: Apache-2.0
   The print view's one button (ES5, for the 2018-era Firefox ESR too). */
(function () {
  var button = document.getElementById("print-now");
  if (button) { button.addEventListener("click", function () { window.print(); }); }
})();
