// "Recent actions": the newest audit records, live (audit.recorded events prepend to it).
import { formatClock, formatDay } from '../format.js';

const ACTION_NAMES = {
  'reservation.booked_for': 'booked for someone',
  'reservation.released': 'released',
  'reservation.checked_in': 'checked in',
  'closure.created': 'closed a spot',
  'closure.deleted': 'reopened a spot',
  'spot.created': 'added a spot',
  'spot.updated': 'changed a spot',
  'rules.changed': 'changed the rules',
  'user.role_changed': 'changed a role',
  'webhook.created': 'added a webhook',
  'webhook.deleted': 'removed a webhook',
};

export const RecentActions = {
  props: {
    desk: { type: Object, required: true },
    timezone: { type: String, default: null },
  },
  mounted() {
    this.desk.loadActions();
  },
  methods: {
    when(action) {
      return `${formatDay(action.recordedAt, this.timezone)} ${formatClock(action.recordedAt, this.timezone)}`;
    },
    what(action) {
      const verb = ACTION_NAMES[action.action] ?? action.action;
      return `${action.actor} ${verb} (${action.targetType} ${action.targetId})`;
    },
  },
  template: `
    <section class="desk-card" aria-labelledby="recent-actions-heading">
      <h3 id="recent-actions-heading" class="desk-card-heading">Recent actions</h3>
      <p v-if="desk.state.actionsFailed" class="error-msg">The record could not be read.</p>
      <p v-else-if="!desk.state.actions.length" class="desk-hint">Nothing recorded yet.</p>
      <ul v-else class="recent-actions" aria-live="polite">
        <li v-for="action in desk.state.actions" :key="action.id" :data-action="action.action">
          <time :datetime="action.recordedAt">{{ when(action) }}</time>{{ what(action) }}<template v-if="action.reason">: “{{ action.reason }}”</template>
        </li>
      </ul>
    </section>
  `,
};
