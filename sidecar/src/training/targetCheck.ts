// LoRA targets against a model's architecture and tensors. Pure (no I/O): the run-config diagnostics, the Start
// Training wizard and run/start (modelCheck.ts) share it.
//
// Rules (docs/architectures.md):
// - a fused name (attn_qkv, ffn_gate_up) on a model with separate projections is an error that says what to use;
// - a target whose tensor the model lacks is a warning in the editor and an error when a run starts;
// - on a fused model, naming only some of q/k/v (or only one of gate/up) still adapts the whole fused tensor: a note.
import { tensorForTarget, type ArchitectureSpec } from "../engine/architectures";
import { ALL_TARGET_MODULES, type TargetModule, type TargetName } from "../engine/types";

export type TargetProblemCode = "fused-target-on-separate-model" | "target-missing" | "partial-fused-selection";

export interface TargetProblem {
    /** Index into the targets as given (for the diagnostic's range and the error's field). */
    index: number;
    target: TargetName;
    code: TargetProblemCode;
    severity: "error" | "warning" | "info";
    message: string;
}

/** Targets that select one fused tensor together on a fused model, and the fused name that says so. */
const FUSED_GROUPS: ReadonlyArray<{ members: readonly TargetModule[]; fusedName: TargetName; projections: string }> = [
    { members: ["attn_q", "attn_k", "attn_v"], fusedName: "attn_qkv", projections: "q, k and v" },
    { members: ["ffn_gate", "ffn_up"], fusedName: "ffn_gate_up", projections: "gate and up" }
];

/** `blk.N.<tensor>.weight` names present in the model, by tensor (`attn_q`, `attn_qkv`, …). */
function layerTensors(tensorNames: Iterable<string>): Set<string> {
    const out = new Set<string>();
    for (const name of tensorNames) {
        const m = /^blk\.\d+\.([a-z0-9_]+)\.weight$/.exec(name);
        if (m) out.add(m[1]!);
    }
    return out;
}

/**
 * Every problem with `targets` on a model of architecture `spec` holding `tensorNames` (its tensor table). Pure: the
 * language server, the wizard and run/start call it with a header they have read.
 */
export function checkTargets(spec: ArchitectureSpec, targets: readonly TargetName[], tensorNames: Iterable<string>): TargetProblem[] {
    const present = layerTensors(tensorNames);
    const problems: TargetProblem[] = [];
    targets.forEach((target, index) => {
        const selected = tensorForTarget(spec, target);
        if ("error" in selected) {
            problems.push({ index, target, code: "fused-target-on-separate-model", severity: "error", message: selected.error });
            return;
        }
        if (!present.has(selected.tensor)) {
            const adaptable = [...new Set(ALL_TARGET_MODULES.map((t) => spec.targetTensors[t]))].filter((t) => present.has(t));
            problems.push({
                index, target, code: "target-missing", severity: "warning",
                message: `'${target}' selects the tensor ${selected.tensor}, which this ${spec.arch} model does not have ` +
                    `(its adaptable tensors: ${adaptable.length > 0 ? adaptable.join(", ") : "none"}); remove it from targetModules`
            });
        }
    });
    if (spec.fused) {
        for (const group of FUSED_GROUPS) {
            if (targets.includes(group.fusedName)) continue;
            const named = group.members.filter((m) => targets.includes(m));
            if (named.length === 0 || named.length === group.members.length) continue;
            const tensor = spec.targetTensors[named[0]!];
            problems.push({
                index: targets.indexOf(named[0]!), target: named[0]!, code: "partial-fused-selection", severity: "info",
                message: `on ${spec.arch} models ${group.projections} are one fused tensor (${tensor}), so ${named.join(" and ")} adapts all of ${group.projections}; write "${group.fusedName}" to say so`
            });
        }
    }
    return problems;
}
