// The attendant's tools under the board: the lot's rules, closing and reopening spots, adding
// spots, what was done (recent actions) and the lobby screen's link.
import { AddSpotForm } from './AddSpotForm.js';
import { ClosuresPanel } from './ClosuresPanel.js';
import { LobbyLink } from './LobbyLink.js';
import { RecentActions } from './RecentActions.js';
import { RulesForm } from './RulesForm.js';

export const AttendantDesk = {
  components: { AddSpotForm, ClosuresPanel, LobbyLink, RecentActions, RulesForm },
  props: {
    desk: { type: Object, required: true },
    store: { type: Object, required: true },
  },
  template: `
    <section class="desk" aria-labelledby="desk-heading">
      <h2 id="desk-heading" class="desk-heading">Attendant’s desk</h2>
      <p v-if="desk.state.failedDeliveries !== null" class="desk-deliveries" :class="{ 'desk-deliveries-failed': desk.state.failedDeliveries > 0 }">
        Failed webhook deliveries: {{ desk.state.failedDeliveries }}
      </p>
      <div class="desk-cards">
        <ClosuresPanel :desk="desk" :store="store" />
        <RulesForm :desk="desk" :store="store" />
        <AddSpotForm :desk="desk" />
        <RecentActions :desk="desk" :timezone="store.state.timezone" />
        <LobbyLink :desk="desk" />
      </div>
    </section>
  `,
};
