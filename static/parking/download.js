// Saves a Blob as a file: a temporary object URL behind a clicked <a download>.

export function saveFile(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.hidden = true;
  document.body.append(link); // some browsers only follow links that are in the document
  link.click();
  link.remove();
  // The click has captured the URL; revoking it in the next task frees the Blob's memory.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
