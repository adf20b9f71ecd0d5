// The bell: the driver's unread count, and a panel listing their notifications (newest first).
import { formatWhen } from '../format.js';

export const NotificationBell = {
  props: {
    inbox: { type: Object, required: true },
    timezone: { type: String, default: null },
  },
  computed: {
    state() {
      return this.inbox.state;
    },
    label() {
      const unread = this.state.unread;
      return unread ? `Notifications, ${unread} unread` : 'Notifications';
    },
  },
  methods: {
    when(notification) {
      return formatWhen(notification.created_at, this.timezone);
    },
  },
  template: `
    <div class="parking-inbox">
      <button
        type="button"
        class="parking-bell"
        :aria-label="label"
        :aria-expanded="state.open ? 'true' : 'false'"
        aria-controls="parking-inbox-panel"
        @click="inbox.toggle()"
      >
        <svg class="parking-bell-icon" aria-hidden="true" viewBox="0 0 24 24" width="20" height="20">
          <path d="M12 3a6 6 0 0 0-6 6v3.6L4.3 15.4A1 1 0 0 0 5.2 17h13.6a1 1 0 0 0 .9-1.6L18 12.6V9a6 6 0 0 0-6-6Zm-2.5 15a2.5 2.5 0 0 0 5 0Z" fill="currentColor" />
        </svg>
        <span class="parking-bell-text">Notifications</span>
        <span v-if="state.unread" class="parking-bell-count" aria-hidden="true">{{ state.unread }}</span>
      </button>
      <section v-if="state.open" id="parking-inbox-panel" class="parking-inbox-panel" aria-label="Notifications">
        <div class="parking-inbox-head">
          <h2 class="parking-inbox-heading">Notifications</h2>
          <button type="button" class="parking-inbox-close" aria-label="Close notifications" @click="inbox.close()">×</button>
        </div>
        <p v-if="state.failed && !state.notifications.length" class="parking-inbox-empty">Notifications could not be loaded.</p>
        <p v-else-if="!state.notifications.length" class="parking-inbox-empty">Nothing yet. The attendant's changes to your bookings, and reminders, show up here.</p>
        <ol v-else class="parking-inbox-list">
          <li
            v-for="notification in state.notifications"
            :key="notification.id"
            class="parking-inbox-item"
            :class="{ 'parking-inbox-unread': !notification.read_at }"
          >
            <p class="parking-inbox-title">{{ notification.title }}</p>
            <p class="parking-inbox-body">{{ notification.body }}</p>
            <p class="parking-inbox-when">{{ when(notification) }}</p>
          </li>
        </ol>
      </section>
    </div>
  `,
};
