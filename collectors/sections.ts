/**
 * The section registry: the sampler reads and derives these in this order, and the sample's
 * keys keep it (docs/COMPATIBILITY.md §1: memory, network, disk follow cpu). Adding a section is
 * its collector file with a `SectionFactory`, one line here, and its type in `SectionSamples`
 * (base/sample.ts, the wire schema).
 */
import { diskSection } from "./disk.ts";
import { memorySection } from "./memory.ts";
import { networkSection } from "./network.ts";
import type { SectionFactory } from "./section.ts";

export const SECTIONS: readonly SectionFactory[] = [memorySection, networkSection, diskSection];
