"""One module per page (or group of pages); each page's state lives beside it."""
