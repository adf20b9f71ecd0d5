// "My vehicles": the driver's plates (a few at most), so the attendant finds their booking at the gate.
import { PlateInput } from './PlateInput.js';

export const MyVehicles = {
  components: { PlateInput },
  props: {
    vehicles: { type: Object, required: true },
    limits: { type: Object, default: null }, // the server's, GET /lot; null until it is read
  },
  data() {
    return { plate: '', label: '' };
  },
  computed: {
    state() {
      return this.vehicles.state;
    },
    full() {
      const most = this.limits?.max_vehicles_per_driver;
      return most !== undefined && this.state.vehicles.length >= most;
    },
  },
  mounted() {
    this.vehicles.load();
  },
  methods: {
    async add() {
      if (await this.vehicles.add({ licencePlate: this.plate.trim(), label: this.label.trim() })) {
        this.plate = '';
        this.label = '';
      }
    },
  },
  template: `
    <section class="account-section my-vehicles" aria-labelledby="my-vehicles-heading">
      <h2 id="my-vehicles-heading" class="account-section-heading">My vehicles</h2>
      <p class="account-section-hint">The attendant at the gate finds your booking by your plate. With one vehicle, your bookings use it.</p>
      <ul v-if="state.vehicles.length" class="my-vehicles-list">
        <li v-for="vehicle in state.vehicles" :key="vehicle.id" class="my-vehicles-item">
          <span class="licence-plate">{{ vehicle.licence_plate }}</span>
          <span v-if="vehicle.label" class="my-vehicles-label">{{ vehicle.label }}</span>
          <button
            type="button"
            class="btn btn-secondary"
            :disabled="state.busy"
            :aria-label="'Remove ' + vehicle.licence_plate"
            @click="vehicles.remove(vehicle)"
          >Remove</button>
        </li>
      </ul>
      <form v-if="!full" class="my-vehicles-form" @submit.prevent="add">
        <div class="form-group">
          <label for="vehicle-plate">Licence plate</label>
          <PlateInput id="vehicle-plate" v-model="plate" :maxlength="limits?.max_licence_plate" />
        </div>
        <div class="form-group">
          <label for="vehicle-label">Label (optional)</label>
          <input id="vehicle-label" v-model="label" type="text" :maxlength="limits?.max_vehicle_label" autocomplete="off" />
        </div>
        <button type="submit" class="btn btn-primary" :disabled="state.busy">Add vehicle</button>
      </form>
      <p v-else class="account-section-hint">You have registered {{ limits.max_vehicles_per_driver }} vehicles, the most allowed.</p>
      <p v-if="state.error" class="error-msg" role="alert">{{ state.error }}</p>
    </section>
  `,
};
