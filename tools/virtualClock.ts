// Simulated time for evaluating a stack under mocks: every create "takes" as long as a provisioning model says, on
// a virtual clock that moves only when the program has nothing left to do but wait. Real sleeps scaled down (the
// first version of the plan) measure the machine as much as the program: on a loaded 2-core box the event loop is
// busy compiling modules and serialising dynamic providers for seconds, and that showed up as simulated minutes.
// Here CPU time costs no simulated time at all, so a run gives the same timeline on any machine, under any load.
import * as pulumi from "@pulumi/pulumi";
import { AzureMocks } from "../tests/mocks";

const realDelay = (ms: number) => new Promise<void>(resolve => setTimeout(resolve, ms));

export class VirtualClock {
    /** Simulated seconds since the start. */
    public now = 0;
    private readonly sleepers: { until: number; resolve: () => void }[] = [];
    private activity = 0;
    private advancing = false;

    /**
     * @param quietMs real ms the program must stay silent (no registration, no invoke) before the clock moves
     * @param quietChecks how many such silent periods in a row; several, so a callback queued in another phase of
     *   the event loop (I/O, inspector) runs before the clock decides nothing else is coming
     */
    constructor(private readonly quietMs = 15, private readonly quietChecks = 3) {}

    /** Marks that the program did something: the clock waits for it to go quiet again. */
    touch(): void {
        this.activity++;
    }

    /** Resolves once `seconds` of simulated time have passed. */
    sleep(seconds: number): Promise<void> {
        this.touch();
        if (seconds <= 0) {
            return Promise.resolve();
        }
        return new Promise<void>(resolve => {
            this.sleepers.push({ until: this.now + seconds, resolve });
            void this.advance();
        });
    }

    private async advance(): Promise<void> {
        if (this.advancing) {
            return;
        }
        this.advancing = true;
        try {
            while (this.sleepers.length > 0) {
                for (let quiet = 0; quiet < this.quietChecks;) {
                    const seen = this.activity;
                    await realDelay(this.quietMs);
                    quiet = this.activity === seen ? quiet + 1 : 0;
                }
                const next = Math.min(...this.sleepers.map(s => s.until));
                this.now = next;
                for (const due of this.sleepers.filter(s => s.until <= next)) {
                    this.sleepers.splice(this.sleepers.indexOf(due), 1);
                    due.resolve();
                }
                this.touch();
            }
        } finally {
            this.advancing = false;
        }
    }
}

/** Seconds a create takes, by resource type and logical name. */
export type SecondsOf = (type: string, name: string) => number;

/**
 * The tests' mocks, with every create taking `secondsOf` simulated seconds on `clock`. Recorded `requestedAt` and
 * `createdAt` are simulated milliseconds (seconds × 1000), so code reading them does not care which clock ran.
 */
export class SimulatedMocks extends AzureMocks {
    constructor(public readonly clock: VirtualClock, private readonly secondsOf: SecondsOf) {
        super();
    }

    async newResource(args: pulumi.runtime.MockResourceArgs): Promise<{ id: string; state: Record<string, any> }> {
        this.clock.touch();
        const start = this.clock.now;
        // With no delay of its own the base class records the resource before its first await, so the last record is
        // this one (an await in between would let another create push its record first).
        const created = super.newResource(args);
        const recorded = this.resources[this.resources.length - 1];
        const result = await created;
        await this.clock.sleep(this.secondsOf(args.type, args.name));
        recorded.requestedAt = start * 1000;
        recorded.createdAt = this.clock.now * 1000;
        return result;
    }

    call(args: pulumi.runtime.MockCallArgs): Record<string, any> {
        this.clock.touch();
        return super.call(args);
    }
}
