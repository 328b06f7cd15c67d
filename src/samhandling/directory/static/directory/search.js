// htmx 2 does not swap 4xx responses by default; the search answers 400 with a fragment that
// explains which choice was refused, so let that one through.
document.addEventListener("htmx:beforeSwap", function (event) {
  if (event.detail.xhr.status === 400 && event.detail.target.id === "results") {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
