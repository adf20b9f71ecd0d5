// The attendant's menu for one cell: book a free one for someone; check in the holder of a
// taken one, or release it.
import { formatDay, holderInFull } from '../format.js';
import { armedModal } from './armedModal.js';
import { BookForForm } from './BookForForm.js';
import { MenuArrival } from './MenuArrival.js';
import { ReleaseForm } from './ReleaseForm.js';

export const CellMenu = {
  components: { BookForForm, MenuArrival, ReleaseForm },
  mixins: [armedModal], // the form's action wakes up a moment after the menu opens
  props: {
    desk: { type: Object, required: true },
    arrivals: { type: Object, required: true },
    timezone: { type: String, required: true },
  },
  computed: {
    menu() {
      return this.desk.state.menu;
    },
    title() {
      return `${this.menu.intent === 'book' ? 'Book ' : ''}Spot ${this.menu.spot.spot_number}`;
    },
    holder() {
      return this.menu.holder ? holderInFull(this.menu.holder) : 'someone';
    },
    day() {
      return formatDay(this.menu.slot.start_time, this.timezone);
    },
  },
  // Escape (the dialog's cancel event) closes the menu and changes nothing.
  template: `
    <dialog
      ref="dialog"
      class="release-dialog cell-menu"
      aria-labelledby="cell-menu-title"
      @cancel.prevent="desk.closeCellMenu()"
    >
      <h2 id="cell-menu-title" class="release-dialog-title">{{ title }}</h2>
      <p class="release-dialog-slot">{{ menu.slot.label }} · {{ day }}</p>
      <BookForForm v-if="menu.intent === 'book'" :desk="desk" :armed="armed" />
      <template v-else>
        <p class="cell-menu-holder">Held by {{ holder }}.</p>
        <MenuArrival :desk="desk" :arrivals="arrivals" :timezone="timezone" :armed="armed" />
        <ReleaseForm :desk="desk" :armed="armed" />
      </template>
    </dialog>
  `,
};
