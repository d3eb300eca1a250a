import { parseOrThrow } from '../../../lib/errors';
import { algorithmChangeSchema } from '../../../lib/schemas/http';
import { request } from '../api';
import { byId, h } from '../dom';
import { type Config, configSchema } from '../wire';
import { describeError, numberValue, showStatus } from './form-status';

/** Switches the scheduling algorithm at run time; alpha, beta and tau tune the blockchain algorithm. */
export class AlgorithmForm {
  readonly #form = byId<HTMLFormElement>('algorithm-form');
  readonly #select = byId<HTMLSelectElement>('algorithm-select');
  readonly #alpha = byId<HTMLInputElement>('param-alpha');
  readonly #beta = byId<HTMLInputElement>('param-beta');
  readonly #tau = byId<HTMLInputElement>('param-tau');
  readonly #status = byId('algorithm-status');
  readonly #kpi = byId('kpi-algorithm');
  #dirty = false;
  #algorithms: string[] = [];

  constructor() {
    this.#form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.#apply();
    });
    // Once the user edits, live updates must not overwrite what they typed.
    this.#form.addEventListener('input', () => {
      this.#dirty = true;
    });
  }

  configure(config: Config): void {
    this.#algorithms = config.algorithms;
    this.#kpi.textContent = config.algorithm;
    if (this.#dirty) return;
    this.#select.replaceChildren(...config.algorithms.map((name) => h('option', { value: name }, name)));
    this.#select.value = config.algorithm;
    this.#alpha.value = String(config.params.alpha);
    this.#beta.value = String(config.params.beta);
    this.#tau.value = String(config.params.tau);
  }

  /** The algorithm in force, as the metrics stream reports it (another client may have switched it). */
  showActive(algorithm: string): void {
    this.#kpi.textContent = algorithm;
    if (!this.#dirty && this.#select.value !== algorithm) this.#select.value = algorithm;
  }

  async #apply(): Promise<void> {
    try {
      // The server's own schema, so a typo is caught here with the same field names it would use.
      const change = parseOrThrow(
        algorithmChangeSchema(this.#algorithms),
        {
          algorithm: this.#select.value,
          params: {
            alpha: numberValue(this.#alpha),
            beta: numberValue(this.#beta),
            tau: numberValue(this.#tau),
          },
        },
        'algorithm',
      );
      showStatus(this.#status, 'pending', 'Applying…');
      // The answer is the configuration now in force; the form shows it as the server resolved it.
      const answer = await request(configSchema, '/config/algorithm', { method: 'PUT', body: change });
      this.#dirty = false;
      this.configure(answer);
      showStatus(this.#status, 'ok', `Now scheduling with ${answer.algorithm}.`);
    } catch (error) {
      showStatus(this.#status, 'error', describeError(error));
    }
  }
}
