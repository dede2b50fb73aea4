/** An import of one source file (see check-layers.mjs). */
export interface ImportEdge {
  to: string;
  spec: string;
  dynamic: boolean;
  typeOnly: boolean;
}
/** Every broken layer rule, import cycle and oversized file of src/, as readable lines. */
export declare function checkLayers(srcDir?: string): string[];
/** Strongly connected components of static imports: the import cycles. */
export declare function findCycles(graph: Map<string, ImportEdge[]>): string[][];
export declare const MAX_LINES: number;
