// The attendant adds a spot to the lot; every open grid shows it at once.
const SPOT_TYPES = [
  { value: 'regular', label: 'Regular' },
  { value: 'handicap', label: 'Accessible' },
];

export const AddSpotForm = {
  props: {
    desk: { type: Object, required: true },
  },
  data() {
    return { spotNumber: '', floorNumber: '', type: 'regular', busy: false, error: null, types: SPOT_TYPES };
  },
  computed: {
    limits() {
      return this.desk.limits(); // the server's ranges of numbers and floors, GET /lot
    },
  },
  methods: {
    // A request in flight ignores further submits: one gesture, one intent.
    async submit() {
      if (this.busy) {
        return;
      }
      this.busy = true;
      this.error = null;
      try {
        await this.desk.addSpot({ spotNumber: this.spotNumber, floorNumber: this.floorNumber, type: this.type });
        this.spotNumber = '';
      } catch (error) {
        this.error = error.message;
      } finally {
        this.busy = false;
      }
    },
  },
  template: `
    <section class="desk-card" aria-labelledby="add-spot-heading">
      <h3 id="add-spot-heading" class="desk-card-heading">Add a spot</h3>
      <form class="desk-form" @submit.prevent="submit">
        <div class="desk-fields">
          <div class="form-group">
            <label for="new-spot-number">Number</label>
            <input
              id="new-spot-number"
              v-model.number="spotNumber"
              type="number"
              min="1"
              :max="limits?.max_spot_number"
              inputmode="numeric"
              required
            />
          </div>
          <div class="form-group">
            <label for="new-spot-floor">Floor</label>
            <input
              id="new-spot-floor"
              v-model.number="floorNumber"
              type="number"
              :min="limits?.min_floor"
              :max="limits?.max_floor"
              inputmode="numeric"
              required
            />
          </div>
        </div>
        <div class="form-group">
          <label for="new-spot-type">Type</label>
          <select id="new-spot-type" v-model="type">
            <option v-for="option in types" :key="option.value" :value="option.value">{{ option.label }}</option>
          </select>
        </div>
        <p class="error-msg" role="alert">{{ error }}</p>
        <button type="submit" class="btn btn-primary" :disabled="busy" :aria-busy="busy ? 'true' : null">
          {{ busy ? 'Adding…' : 'Add the spot' }}
        </button>
      </form>
    </section>
  `,
};
