// "API tokens": every personal token of the signed-in user, with when it was made, last used
// and expires, and a Revoke button that asks first (scripts using it stop at once).
import { formatClock, formatDay } from '../format.js';
import { ConfirmDialog } from './ConfirmDialog.js';

export const ApiTokens = {
  components: { ConfirmDialog },
  props: {
    tokens: { type: Object, required: true },
    store: { type: Object, required: true },
  },
  data() {
    return {
      asking: null, // the token whose revocation is being confirmed
    };
  },
  computed: {
    state() {
      return this.tokens.state;
    },
  },
  methods: {
    when(instant) {
      const timeZone = this.store.state.timezone;
      return `${formatDay(instant, timeZone)}, ${formatClock(instant, timeZone)}`;
    },
    expired(token) {
      return token.expires_at !== null && Date.parse(token.expires_at) <= Date.now();
    },
    expiry(token) {
      if (token.expires_at === null) {
        return 'Never expires';
      }
      return `${this.expired(token) ? 'Expired' : 'Expires'} ${this.when(token.expires_at)}`;
    },
    ask(token) {
      this.asking = token;
    },
    closeQuestion() {
      this.asking = null;
      this.store.quietAfterDialog();
    },
    revoke() {
      const token = this.asking;
      this.closeQuestion();
      this.tokens.revoke(token);
    },
  },
  template: `
    <section class="account-section api-tokens" aria-labelledby="api-tokens-heading">
      <h2 id="api-tokens-heading" class="account-section-heading">API tokens</h2>
      <p class="account-section-hint">
        Each token lets a script act as you until it is revoked or expires. Revoke any you do not recognise.
      </p>
      <p v-if="!state.loaded && !state.error" class="account-section-hint">
        {{ state.loading ? 'Loading your tokens…' : '' }}
      </p>
      <p v-else-if="state.loaded && !state.tokens.length" class="account-section-hint">You have no API tokens.</p>
      <ul v-if="state.tokens.length" class="api-tokens-list">
        <li v-for="token in state.tokens" :key="token.id" class="api-token" :data-token-id="token.id">
          <div class="api-token-text">
            <span class="api-token-name">{{ token.name }}</span>
            <span class="api-token-meta">Created {{ when(token.created_at) }}</span>
            <span class="api-token-meta">
              {{ token.last_used_at === null ? 'Never used' : 'Last used ' + when(token.last_used_at) }}
            </span>
            <span class="api-token-meta" :class="{ 'api-token-expired': expired(token) }">{{ expiry(token) }}</span>
          </div>
          <button
            type="button"
            class="btn btn-secondary api-token-revoke"
            :disabled="state.revoking !== null"
            :aria-busy="state.revoking === token.id ? 'true' : null"
            :aria-label="'Revoke ' + token.name"
            @click="ask(token)"
          >
            {{ state.revoking === token.id ? 'Revoking…' : 'Revoke' }}
          </button>
        </li>
      </ul>
      <div v-if="state.next" class="api-tokens-actions">
        <button type="button" class="btn btn-secondary" :disabled="state.loading" @click="tokens.load({ more: true })">
          {{ state.loading ? 'Loading…' : 'Show older tokens' }}
        </button>
      </div>
      <p v-if="state.error" class="error-msg" role="alert">{{ state.error }}</p>

      <ConfirmDialog
        v-if="asking"
        :title="'Revoke “' + asking.name + '”?'"
        confirm-label="Revoke it"
        cancel-label="Keep it"
        @confirm="revoke"
        @cancel="closeQuestion"
      >
        <p class="release-dialog-warning">Scripts using this token stop working at once, on every server.</p>
      </ConfirmDialog>
    </section>
  `,
};
