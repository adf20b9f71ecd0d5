// The caller's personal API tokens: listed newest first, a page at a time, and revocable.
//
// A stolen session could mint tokens that act as the driver for good; here the driver sees
// every one and ends those they do not know. Secrets are never here: the server shows a
// token only once, to whoever creates it (POST /me/tokens).
import { reactive } from 'vue';

export function createApiTokens({ api }) {
  const state = reactive({
    tokens: [], // newest first
    next: null, // the link to the next, older page, or null
    loaded: false, // the first page has arrived
    loading: false, // a page is on its way
    revoking: null, // the token being revoked, or null
    error: null, // the server's message, or null
  });

  // The first page again (`more`: the next one after those shown). Repeats wait for the first.
  async function load({ more = false } = {}) {
    if (state.loading || (more && state.next === null)) {
      return;
    }
    state.loading = true;
    state.error = null;
    try {
      const page = await api.listApiTokens(more ? state.next : undefined);
      state.tokens = more ? [...state.tokens, ...page.tokens] : page.tokens;
      state.next = page.next;
      state.loaded = true;
    } catch (error) {
      state.error = error.message;
    } finally {
      state.loading = false;
    }
  }

  // Ends the token on every server; it leaves the list once the server has said so.
  async function revoke(token) {
    if (state.revoking !== null) {
      return;
    }
    state.revoking = token.id;
    state.error = null;
    try {
      await api.revokeApiToken(token.id);
      state.tokens = state.tokens.filter((shown) => shown.id !== token.id);
    } catch (error) {
      if (error.code === 'token_not_found') {
        state.tokens = state.tokens.filter((shown) => shown.id !== token.id); // gone already
      } else {
        state.error = error.message;
      }
    } finally {
      state.revoking = null;
    }
  }

  return { state, load, revoke };
}
