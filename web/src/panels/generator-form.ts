import { parseOrThrow } from '../../../lib/errors';
import { generatorSettingsSchema } from '../../../lib/schemas/http';
import { request } from '../api';
import { byId } from '../dom';
import { integer } from '../format';
import { type GeneratorState, generatorStateSchema } from '../wire';
import { describeError, numberValue, showStatus } from './form-status';

/** Starts and stops the server's built-in task generator. */
export class GeneratorForm {
  readonly #form = byId<HTMLFormElement>('generator-form');
  readonly #rate = byId<HTMLInputElement>('generator-rate');
  readonly #count = byId<HTMLInputElement>('generator-count');
  readonly #size = byId<HTMLSelectElement>('generator-size');
  readonly #durationMin = byId<HTMLInputElement>('generator-duration-min');
  readonly #durationMax = byId<HTMLInputElement>('generator-duration-max');
  readonly #slackMin = byId<HTMLInputElement>('generator-slack-min');
  readonly #slackMax = byId<HTMLInputElement>('generator-slack-max');
  readonly #start = byId<HTMLButtonElement>('generator-start');
  readonly #stop = byId<HTMLButtonElement>('generator-stop');
  readonly #status = byId('generator-status');
  readonly #indicator = byId('generator-indicator');
  readonly #speed = byId('simulation-speed');

  constructor() {
    this.#form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.#send(true);
    });
    this.#stop.addEventListener('click', () => void this.#send(false));
  }

  /** The simulation speed is fixed when the server starts (`bcs start --speed`); shown, not edited. */
  showSpeed(speed: number | undefined): void {
    this.#speed.textContent =
      speed === undefined
        ? ''
        : `Simulated time runs ×${speed}: a 120 s task finishes in ${(120 / speed).toFixed(1)} s (set with bcs start --speed).`;
  }

  async load(): Promise<void> {
    try {
      this.#show(await request(generatorStateSchema, '/generator'), true);
    } catch (error) {
      showStatus(this.#status, 'error', describeError(error));
    }
  }

  /** Follows the generator's progress (it stops by itself when a count is reached). */
  async refresh(): Promise<void> {
    if (this.#indicator.dataset.running !== 'true') return;
    try {
      this.#show(await request(generatorStateSchema, '/generator'), false);
    } catch {
      // The next refresh retries; a transient failure is not worth replacing the status line.
    }
  }

  #show(state: GeneratorState, fill: boolean): void {
    if (fill) {
      this.#rate.value = String(state.rate);
      this.#count.value = state.count == null ? '' : String(state.count);
      if (state.size) this.#size.value = state.size;
      if (state.duration_s) {
        this.#durationMin.value = String(state.duration_s[0]);
        this.#durationMax.value = String(state.duration_s[1]);
      }
      if (state.deadline_slack_s) {
        this.#slackMin.value = String(state.deadline_slack_s[0]);
        this.#slackMax.value = String(state.deadline_slack_s[1]);
      }
    }
    this.#indicator.dataset.running = String(state.running);
    this.#indicator.textContent = state.running ? `running · ${state.rate}/s` : 'stopped';
    this.#start.textContent = state.running ? 'Update' : 'Start';
    this.#stop.disabled = !state.running;
    const generated = state.generated === undefined ? '' : ` ${integer(state.generated)} tasks generated.`;
    showStatus(this.#status, 'ok', `${state.running ? 'Generating' : 'Idle'}.${generated}`);
  }

  async #send(running: boolean): Promise<void> {
    try {
      // The server's own schema: the same bounds and field names as its 400 answers.
      const body = parseOrThrow(
        generatorSettingsSchema,
        {
          running,
          rate: numberValue(this.#rate),
          count: numberValue(this.#count) ?? null,
          duration_s: [numberValue(this.#durationMin), numberValue(this.#durationMax)],
          deadline_slack_s: [numberValue(this.#slackMin), numberValue(this.#slackMax)],
          size: this.#size.value,
        },
        'generator',
      );
      showStatus(this.#status, 'pending', running ? 'Starting…' : 'Stopping…');
      this.#show(await request(generatorStateSchema, '/generator', { method: 'POST', body }), false);
    } catch (error) {
      showStatus(this.#status, 'error', describeError(error));
    }
  }
}
