// Above the grid: for a driver, "Join the waitlist" on each full slot of the shown day and
// their place in line; for the attendant, how many wait per slot and, when asked, who.
export const WaitlistPanel = {
  props: {
    waitlist: { type: Object, required: true },
    store: { type: Object, required: true },
    admin: { type: Boolean, default: false },
  },
  computed: {
    // The driver's: one line per slot of the shown day that is full or that they wait for.
    lines() {
      return this.store.state.slots
        .map((column) => ({ column, entry: this.waitlist.entryFor(column) }))
        .filter(({ column, entry }) => entry || this.waitlist.isFull(column));
    },
    // The attendant's: the board's count of drivers waiting, per slot.
    counts() {
      return (this.store.state.waiting ?? []).map((line) => ({
        ...line,
        column: this.store.state.slots.find((column) => Date.parse(column.start_time) === Date.parse(line.start_time)),
      })).filter((line) => line.column);
    },
  },
  methods: {
    busy(column) {
      return this.waitlist.state.busy.has(column.start_time);
    },
  },
  template: `
    <section v-if="!admin && lines.length" class="parking-waitlist" aria-label="Waitlist">
      <div v-for="{ column, entry } in lines" :key="column.start_time" class="parking-waitlist-line" :data-slot="column.label">
        <template v-if="entry">
          <span class="parking-waitlist-text">{{ waitlist.placeText(entry, column) }}</span>
          <button type="button" class="btn btn-secondary parking-waitlist-button" :disabled="busy(column)" @click="waitlist.leave(column)">
            Leave the line
          </button>
        </template>
        <template v-else>
          <span class="parking-waitlist-text">{{ column.label }} is full.</span>
          <button type="button" class="btn btn-primary parking-waitlist-button" :disabled="busy(column)" @click="waitlist.join(column)">
            Join the waitlist
          </button>
        </template>
      </div>
    </section>
    <section v-if="admin && counts.length" class="parking-waitlist" aria-label="Waitlist">
      <div v-for="line in counts" :key="line.start_time" class="parking-waitlist-line" :data-slot="line.column.label">
        <span class="parking-waitlist-text">{{ line.column.label }}: {{ line.waiting }} waiting</span>
        <button v-if="waitlist.state.lines === null" type="button" class="btn btn-secondary parking-waitlist-button" @click="waitlist.loadLines()">
          Who is waiting?
        </button>
        <ol v-else class="parking-waitlist-names">
          <li v-for="entry in waitlist.waitingFor(line.column)" :key="entry.id">{{ entry.user.display_name }} ({{ entry.user.email }})</li>
        </ol>
      </div>
      <button v-if="waitlist.state.lines !== null" type="button" class="btn btn-secondary parking-waitlist-button" @click="waitlist.hideLines()">
        Hide names
      </button>
    </section>
  `,
};
