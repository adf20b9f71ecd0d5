// The attendant sets the lot's three rules. Only the rules changed are sent, and the server
// validates them: its message shows under the field it names. Switching no-show release on
// asks first, since bookings that already began without a check-in are released too.
import { ConfirmDialog } from './ConfirmDialog.js';

const FIELDS = [
  {
    name: 'max_upcoming_per_driver',
    id: 'rule-max-upcoming',
    label: 'Upcoming bookings per driver',
    placeholder: 'No limit',
    hint: 'Leave empty for no limit. Your bookings for drivers are exempt.',
  },
  {
    name: 'booking_horizon_days',
    id: 'rule-horizon',
    label: 'Days ahead drivers may book',
    placeholder: '',
    hint: 'From 1 to 365.',
  },
  {
    name: 'no_show_grace_minutes',
    id: 'rule-grace',
    label: 'Release no-shows after (minutes)',
    placeholder: '',
    hint: '0 is off. Otherwise a booking nobody checked in for this long after its start (or after it was made, if later) is released.',
  },
];

function asText(value) {
  return value === null || value === undefined ? '' : String(value);
}

// '' is null (no limit), a whole number is that number, and anything else goes as typed:
// the server names the field it refuses, so its rules live in one place.
function parse(text) {
  const trimmed = text.trim();
  if (trimmed === '') {
    return null;
  }
  return /^-?\d+$/.test(trimmed) ? Number(trimmed) : trimmed;
}

export const RulesForm = {
  components: { ConfirmDialog },
  props: {
    desk: { type: Object, required: true },
    store: { type: Object, required: true },
  },
  data() {
    return {
      fields: FIELDS,
      values: Object.fromEntries(FIELDS.map((field) => [field.name, asText(this.store.state.rules?.[field.name])])),
      busy: false,
      error: null, // the server's message
      errorField: null, // the rule it names, if any
      saved: false,
      confirming: false, // asking before no-show release is switched on
    };
  },
  computed: {
    rules() {
      return this.store.state.rules;
    },
    // The rules whose value differs from the lot's: only those are sent.
    changes() {
      if (this.rules === null) {
        return {};
      }
      const entries = FIELDS.map(({ name }) => [name, parse(this.values[name])]);
      return Object.fromEntries(entries.filter(([name, value]) => value !== this.rules[name]));
    },
    changed() {
      return Object.keys(this.changes).length > 0;
    },
    grace() {
      return this.changes.no_show_grace_minutes;
    },
  },
  watch: {
    // Fields the attendant has not touched follow the lot's rules, changed here or elsewhere.
    rules(rules, previous) {
      for (const { name } of FIELDS) {
        if (this.values[name] === asText(previous?.[name])) {
          this.values[name] = asText(rules?.[name]);
        }
      }
    },
  },
  methods: {
    // What was said of the last save no longer applies once a field changes.
    edited() {
      this.saved = false;
      this.error = null;
      this.errorField = null;
    },
    describedBy(field) {
      return this.errorField === field.name ? `${field.id}-error ${field.id}-hint` : `${field.id}-hint`;
    },
    submit() {
      if (this.busy || !this.changed) {
        return;
      }
      const switchesNoShowsOn = this.rules.no_show_grace_minutes === 0 && Number.isInteger(this.grace) && this.grace > 0;
      if (switchesNoShowsOn) {
        this.confirming = true;
      } else {
        this.save();
      }
    },
    cancelConfirm() {
      this.confirming = false;
      this.store.quietAfterDialog();
    },
    confirm() {
      this.cancelConfirm();
      this.save();
    },
    // A request in flight ignores further submits: one gesture, one intent.
    async save() {
      if (this.busy) {
        return;
      }
      this.busy = true;
      this.error = null;
      this.errorField = null;
      try {
        const rules = await this.desk.changeRules(this.changes);
        for (const { name } of FIELDS) {
          this.values[name] = asText(rules[name]);
        }
        this.saved = true;
      } catch (error) {
        const named = FIELDS.find(({ name }) => error.message.includes(`'${name}'`));
        this.errorField = named?.name ?? null;
        this.error = named ? error.message.replace(`'${named.name}'`, named.label) : error.message;
      } finally {
        this.busy = false;
      }
    },
  },
  // novalidate: the server's messages, not the browser's bubbles, say what is wrong.
  template: `
    <section class="desk-card" aria-labelledby="rules-heading">
      <h3 id="rules-heading" class="desk-card-heading">The lot’s rules</h3>
      <p class="desk-hint">They apply at once, on every page.</p>
      <form class="desk-form" novalidate @submit.prevent="submit">
        <div v-for="field in fields" :key="field.name" class="form-group">
          <label :for="field.id">{{ field.label }}</label>
          <input
            :id="field.id"
            v-model="values[field.name]"
            type="text"
            inputmode="numeric"
            autocomplete="off"
            :placeholder="field.placeholder"
            :aria-invalid="errorField === field.name ? 'true' : null"
            :aria-describedby="describedBy(field)"
            @input="edited"
          />
          <p v-if="errorField === field.name" :id="field.id + '-error'" class="error-msg rules-error" role="alert">
            {{ error }}
          </p>
          <p :id="field.id + '-hint'" class="form-hint">{{ field.hint }}</p>
        </div>
        <p v-if="error && !errorField" class="error-msg" role="alert">{{ error }}</p>
        <p class="rules-status" role="status">{{ saved ? 'Saved: every page follows the new rules.' : '' }}</p>
        <button type="submit" class="btn btn-primary" :disabled="busy || !changed" :aria-busy="busy ? 'true' : null">
          {{ busy ? 'Saving…' : 'Save the rules' }}
        </button>
      </form>

      <ConfirmDialog
        v-if="confirming"
        title="Release no-shows?"
        confirm-label="Turn it on"
        cancel-label="Not now"
        @confirm="confirm"
        @cancel="cancelConfirm"
      >
        <p class="release-dialog-slot">After {{ grace }} minutes without a check-in</p>
        <p class="release-dialog-warning">
          This also releases bookings that already began without a check-in, as soon as {{ grace }}
          minutes have passed since their start: some may be released at once, and their drivers lose them.
        </p>
      </ConfirmDialog>
    </section>
  `,
};
