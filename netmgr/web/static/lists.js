// Lists: a header checkbox ticks or clears every row checkbox of its bulk form on this page.
document.addEventListener("change", function (event) {
  var box = event.target;
  if (!box.matches || !box.matches("input[data-select-all]")) return;
  var form = box.dataset.selectAll;
  var rows = document.querySelectorAll('input[type="checkbox"][form="' + form + '"], form#' + form + ' input[type="checkbox"]');
  rows.forEach(function (row) { if (!row.hasAttribute("data-select-all")) row.checked = box.checked; });
});
