/**
 * A section collector: one part of the sample that is read and derived on its own, after the
 * sampler's timed reads (docs/ARCHITECTURE.md "Registries"). The sampler walks `SECTIONS`
 * (collectors/sections.ts) and guards each read and each derive under its own name, so a
 * failure leaves that part `empty` and is reported once; the parts tied to the interval stamp
 * or to each other (CPU, the process tree, cgroups, GPU, energy) stay in the sampler.
 */
import type { Roots, SectionSamples } from "../base/sample.ts";

export interface Section<K extends keyof SectionSamples, Raw> {
  /** The sample's key; warnings name it ("network collector failed: …"). */
  readonly key: K;
  /** Raw counters now; undefined when the source is absent (no warning). */
  read(): Raw | undefined;
  /** The interval's value; `prev` is undefined at the baseline or after a failed read. */
  derive(prev: Raw | undefined, curr: Raw, elapsedSecs: number): SectionSamples[K];
  /** What the sample holds when there is nothing to read or deriving fails. */
  readonly empty: SectionSamples[K];
}

/** Builds a section for the given roots (it may read identities once, as network does). */
export type SectionFactory = (roots: Roots) => AnySection;

// deno-lint-ignore no-explicit-any
export type AnySection = Section<keyof SectionSamples, any>;
