/** Units the wire format names (docs/COMPATIBILITY.md): MiB is 2^20 bytes, as in every `*_mib` field. */
export const MIB = 1_048_576;
export const GIB = 1_073_741_824;
