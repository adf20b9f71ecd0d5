export class Component {
  constructor(element) {
    this.element = element;
  }

  template() {
    return '';
  }

  render() {
    this.element.innerHTML = this.template();
    this.afterRender();
  }

  afterRender() {}
}
