import * as z from 'zod';
import { parseOrThrow } from '../../../lib/errors';
import { addVmsSchema } from '../../../lib/schemas/http';
import { request } from '../api';
import { byId } from '../dom';
import type { FleetVm } from '../wire';
import { describeError, numberValue, showStatus } from './form-status';

const addedSchema = z.object({ added: z.array(z.string()) });
const drainedSchema = z.object({ id: z.string(), state: z.string() });

/**
 * Grows the simulated fleet (POST /fleet/vms) and drains a VM (POST /fleet/vms/{id}/drain). The heat
 * map shows the result from the next fleet event: the page keeps no fleet state of its own.
 */
export class FleetControls {
  readonly #form = byId<HTMLFormElement>('fleet-form');
  readonly #count = byId<HTMLInputElement>('fleet-add-count');
  readonly #status = byId('fleet-status');
  #dimensions: readonly string[] = [];

  constructor(private readonly confirmDrain: (message: string) => boolean = (m) => window.confirm(m)) {
    this.#form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.#add();
    });
  }

  configure(dimensions: readonly string[]): void {
    this.#dimensions = dimensions;
  }

  async #add(): Promise<void> {
    try {
      const body = parseOrThrow(
        addVmsSchema(this.#dimensions),
        { count: numberValue(this.#count) },
        'add VMs',
      );
      showStatus(this.#status, 'pending', 'Adding…');
      const { added } = await request(addedSchema, '/fleet/vms', { method: 'POST', body });
      showStatus(this.#status, 'ok', `Added ${added.length} VM${added.length === 1 ? '' : 's'}.`);
    } catch (error) {
      showStatus(this.#status, 'error', describeError(error));
    }
  }

  /** Asks first: draining cannot be undone from the dashboard. */
  async drain(vm: FleetVm): Promise<void> {
    if (vm.state !== 'active') return;
    if (
      !this.confirmDrain(`Drain ${vm.id}? It takes no new tasks and leaves the fleet once its tasks finish.`)
    ) {
      return;
    }
    try {
      const answer = await request(drainedSchema, `/fleet/vms/${encodeURIComponent(vm.id)}/drain`, {
        method: 'POST',
      });
      showStatus(this.#status, 'ok', `${answer.id} is ${answer.state}.`);
    } catch (error) {
      showStatus(this.#status, 'error', describeError(error));
    }
  }
}
