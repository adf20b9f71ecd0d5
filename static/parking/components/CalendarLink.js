// "Add to my calendar": makes the driver's private feed URL, shows it in a read-only field
// (its only place in the page) and copies it. Replacing a link shown asks first, since
// calendars subscribed to the old one stop updating.
import { ConfirmDialog } from './ConfirmDialog.js';

export const CalendarLink = {
  components: { ConfirmDialog },
  props: {
    feed: { type: Object, required: true },
    store: { type: Object, required: true },
  },
  data() {
    return {
      copyStatus: null, // 'copied', or 'select' when the page may not copy and the driver must
      replacing: false, // asking before the link shown is replaced
    };
  },
  computed: {
    state() {
      return this.feed.state;
    },
    // For v-model, which writes only the field's value property: a :value binding would
    // also write a value attribute (Vue does, for forms' sake), putting the secret into the
    // page's markup. The field is read-only, so nothing is ever set.
    link: {
      get() {
        return this.state.url;
      },
      set() {},
    },
  },
  watch: {
    'state.url'() {
      this.copyStatus = null;
    },
  },
  methods: {
    askToReplace() {
      this.replacing = true;
    },
    closeQuestion() {
      this.replacing = false;
      this.store.quietAfterDialog();
    },
    replace() {
      this.closeQuestion();
      this.feed.makeLink();
    },
    // The Clipboard API needs a secure context (HTTPS or localhost) and may be refused;
    // then the link is selected in its field, for the driver to copy.
    async copy() {
      try {
        await navigator.clipboard.writeText(this.state.url);
        this.copyStatus = 'copied';
      } catch {
        this.$refs.field.focus();
        this.$refs.field.select();
        this.copyStatus = 'select';
      }
    },
  },
  template: `
    <section class="account-section calendar-link" aria-labelledby="calendar-link-heading">
      <h2 id="calendar-link-heading" class="account-section-heading">Your bookings in your calendar</h2>
      <p class="account-section-hint">
        A private link for Google Calendar, Apple Calendar or Outlook (“subscribe from URL”). Anyone with it
        can see your bookings, so keep it to yourself.
      </p>
      <template v-if="state.url">
        <label for="calendar-url" class="calendar-link-label">Your calendar link</label>
        <textarea
          id="calendar-url"
          ref="field"
          class="calendar-link-url"
          v-model="link"
          rows="2"
          readonly
          spellcheck="false"
        ></textarea>
        <p class="account-section-hint calendar-link-status" role="status">
          <template v-if="copyStatus === 'copied'">Copied. Paste it into your calendar app.</template>
          <template v-else-if="copyStatus === 'select'">
            This browser would not let the page copy it: the link is selected, so copy it yourself
            (Ctrl+C, ⌘C, or press and hold).
          </template>
        </p>
        <div class="calendar-link-actions">
          <button type="button" class="btn btn-primary" @click="copy">Copy the link</button>
          <button type="button" class="btn btn-secondary" :disabled="state.busy" @click="askToReplace">
            {{ state.busy ? 'Making a new link…' : 'New link…' }}
          </button>
        </div>
      </template>
      <template v-else>
        <p class="account-section-hint">Made one before? A new link replaces it, and the old one stops working.</p>
        <div class="calendar-link-actions">
          <button
            type="button"
            class="btn btn-primary"
            :disabled="state.busy"
            :aria-busy="state.busy ? 'true' : null"
            @click="feed.makeLink()"
          >
            {{ state.busy ? 'Making your link…' : 'Add to my calendar' }}
          </button>
        </div>
      </template>
      <p v-if="state.error" class="error-msg" role="alert">{{ state.error }}</p>

      <ConfirmDialog
        v-if="replacing"
        title="Replace your calendar link?"
        confirm-label="Replace it"
        cancel-label="Keep it"
        @confirm="replace"
        @cancel="closeQuestion"
      >
        <p class="release-dialog-warning">
          The link shown stops working at once: calendars subscribed to it stop updating until you give them
          the new one.
        </p>
      </ConfirmDialog>
    </section>
  `,
};
