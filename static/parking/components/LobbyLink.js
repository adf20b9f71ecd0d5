// The lobby screen's secret link: made (or replaced) here, shown once, for the screen in the entrance.
export const LobbyLink = {
  props: {
    desk: { type: Object, required: true },
  },
  computed: {
    state() {
      return this.desk.state;
    },
    // v-model, not :value, so the secret never becomes an attribute in the markup.
    link: {
      get() {
        return this.state.lobbyUrl;
      },
      set() {},
    },
  },
  template: `
    <section class="desk-card" aria-labelledby="lobby-link-heading">
      <h3 id="lobby-link-heading" class="desk-card-heading">Lobby screen</h3>
      <p class="desk-hint">
        A full-screen board of today’s free spots for a screen in the entrance. A new link replaces the old
        one, which stops at once.
      </p>
      <textarea
        v-if="state.lobbyUrl"
        id="lobby-url"
        class="lobby-link-url"
        v-model="link"
        rows="2"
        readonly
        spellcheck="false"
        aria-label="The lobby screen's link"
      ></textarea>
      <button
        type="button"
        class="btn btn-secondary"
        :disabled="state.lobbyBusy"
        :aria-busy="state.lobbyBusy ? 'true' : null"
        @click="desk.makeLobbyLink()"
      >{{ state.lobbyUrl ? 'Make a new link' : 'Make the lobby link' }}</button>
      <p v-if="state.lobbyError" class="error-msg" role="alert">{{ state.lobbyError }}</p>
    </section>
  `,
};
