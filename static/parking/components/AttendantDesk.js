// The attendant's tools under the board: the lot's rules, closing and reopening spots, adding spots.
import { AddSpotForm } from './AddSpotForm.js';
import { ClosuresPanel } from './ClosuresPanel.js';
import { RulesForm } from './RulesForm.js';

export const AttendantDesk = {
  components: { AddSpotForm, ClosuresPanel, RulesForm },
  props: {
    desk: { type: Object, required: true },
    store: { type: Object, required: true },
  },
  template: `
    <section class="desk" aria-labelledby="desk-heading">
      <h2 id="desk-heading" class="desk-heading">Attendant’s desk</h2>
      <div class="desk-cards">
        <ClosuresPanel :desk="desk" :store="store" />
        <RulesForm :desk="desk" :store="store" />
        <AddSpotForm :desk="desk" />
      </div>
    </section>
  `,
};
