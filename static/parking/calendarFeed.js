// The driver's private calendar feed: a secret URL, made (or replaced) on request.
//
// The server keeps only the key's hash, so the URL can be shown only right after it is
// made. It lives in this state and in the field that shows it, nowhere else: not in the
// console, a link's href or any other attribute.
import { reactive } from 'vue';

export function createCalendarFeed({ api }) {
  const state = reactive({
    url: null, // the link made in this page, or null
    busy: false, // a link is being made
    error: null, // the server's message, or null
  });

  // Makes a new link; any earlier one stops working. A request in flight ignores repeats.
  async function makeLink() {
    if (state.busy) {
      return;
    }
    state.busy = true;
    state.error = null;
    try {
      const { path } = await api.createCalendarFeed();
      // This page reached the server at its own origin, so the link works from here; the
      // server's idea of its address may be the inside of a proxy.
      state.url = new URL(path, window.location.origin).href;
    } catch (error) {
      state.error = error.message;
    } finally {
      state.busy = false;
    }
  }

  return { state, makeLink };
}
