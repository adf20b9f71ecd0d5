// The cell menu's release: a required reason (the driver is shown it), confirm.

export const ReleaseForm = {
  props: {
    desk: { type: Object, required: true },
    armed: { type: Boolean, required: true },
  },
  data() {
    return { reason: '', busy: false, error: null };
  },
  computed: {
    maxReason() {
      return this.desk.limits()?.max_reason; // the server's limit, GET /lot
    },
    ready() {
      return this.armed && !this.busy && this.reason.trim() !== '';
    },
  },
  methods: {
    // A request in flight ignores further submits: one gesture, one intent.
    async submit() {
      if (!this.ready) {
        return;
      }
      this.busy = true;
      this.error = null;
      try {
        await this.desk.releaseWithReason(this.reason.trim());
      } catch (error) {
        this.error = error.message;
        this.busy = false;
      }
    },
  },
  template: `
    <form class="cell-menu-form" @submit.prevent="submit">
      <div class="form-group">
        <label for="release-reason">Reason (the driver sees it)</label>
        <input
          id="release-reason"
          v-model="reason"
          type="text"
          :maxlength="maxReason"
          autocomplete="off"
          required
          autofocus
        />
      </div>
      <p class="error-msg" role="alert">{{ error }}</p>
      <div class="release-dialog-actions">
        <button type="button" class="btn btn-secondary" @click="desk.closeCellMenu()">Keep it</button>
        <button type="submit" class="btn btn-danger" :disabled="!ready" :aria-busy="busy ? 'true' : null">
          {{ busy ? 'Releasing…' : 'Release' }}
        </button>
      </div>
    </form>
  `,
};
