// Shared by the island's dialogs: opens the <dialog ref="dialog"> as a modal (the grid
// behind it takes no clicks) and arms its action a moment later, so the second click of
// the double-click that opened it cannot land on that action.

const ARM_DELAY_MS = 500;

export const armedModal = {
  data() {
    return { armed: false };
  },
  mounted() {
    this.$refs.dialog.showModal();
    this.armTimer = setTimeout(() => {
      this.armed = true;
    }, ARM_DELAY_MS);
  },
  beforeUnmount() {
    clearTimeout(this.armTimer);
    this.$refs.dialog.close(); // gives focus back to the control that opened it
  },
};
