//! `graph [--json | --dot]` (rsupervisor addition): the dependency graph, dependencies
//! before dependents, with each process's state and whether each condition is met.

use jsonrpsee::core::ClientError;
use rsupervisor_api::{GraphNode, SupervisorRpcClient};

use super::Output;

/// Prints the graph as text, JSON (`--json`) or Graphviz (`--dot`).
pub async fn run<C: SupervisorRpcClient + Sync>(
    client: &C,
    out: &mut Output,
    dot: bool,
) -> Result<(), ClientError> {
    let nodes = client.get_dependency_graph().await?;
    if out.json {
        out.json_value(&serde_json::to_value(&nodes).unwrap_or_default());
    } else if dot {
        out.raw(&to_dot(&nodes));
    } else {
        out.raw(&to_text(&nodes));
    }
    Ok(())
}

/// `STATE, health, waiting for ...` of one node.
fn state(node: &GraphNode) -> String {
    [node.statename.as_str(), &node.health, &node.waiting_for]
        .iter()
        .filter(|part| !part.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(", ")
}

/// One line per process, then one indented line per dependency.
pub fn to_text(nodes: &[GraphNode]) -> String {
    let width = nodes.iter().map(|n| n.namespec.len()).max().unwrap_or(0);
    let mut text = String::new();
    for node in nodes {
        text.push_str(&format!("{:<width$}  {}\n", node.namespec, state(node)));
        for edge in &node.depends_on {
            let met = if edge.met { "met" } else { "not met" };
            text.push_str(&format!(
                "  needs {} ({}): {met}\n",
                edge.namespec, edge.condition
            ));
        }
    }
    text
}

/// A Graphviz digraph: an edge from each dependent to its dependency, dashed while unmet.
pub fn to_dot(nodes: &[GraphNode]) -> String {
    let quote = |text: &str| text.replace('\\', "\\\\").replace('"', "\\\"");
    let mut text = String::from("digraph dependencies {\n  rankdir=LR;\n");
    for node in nodes {
        text.push_str(&format!(
            "  \"{}\" [label=\"{}\\n{}\"];\n",
            quote(&node.namespec),
            quote(&node.namespec),
            quote(&state(node))
        ));
    }
    for node in nodes {
        for edge in &node.depends_on {
            let style = if edge.met { "solid" } else { "dashed" };
            text.push_str(&format!(
                "  \"{}\" -> \"{}\" [label=\"{}\", style={style}];\n",
                quote(&node.namespec),
                quote(&edge.namespec),
                quote(&edge.condition)
            ));
        }
    }
    text.push_str("}\n");
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsupervisor_api::GraphEdge;

    fn nodes() -> Vec<GraphNode> {
        vec![
            GraphNode {
                namespec: "db".into(),
                statename: "RUNNING".into(),
                health: "healthy".into(),
                waiting_for: String::new(),
                depends_on: vec![],
            },
            GraphNode {
                namespec: "web:app".into(),
                statename: "STARTING".into(),
                health: String::new(),
                waiting_for: "waiting for migrate (completed_successfully)".into(),
                depends_on: vec![
                    GraphEdge {
                        namespec: "db".into(),
                        condition: "healthy".into(),
                        met: true,
                    },
                    GraphEdge {
                        namespec: "migrate".into(),
                        condition: "completed_successfully".into(),
                        met: false,
                    },
                ],
            },
        ]
    }

    #[test]
    fn text_and_dot() {
        assert_eq!(
            to_text(&nodes()),
            "db       RUNNING, healthy\n\
             web:app  STARTING, waiting for migrate (completed_successfully)\n\
             \x20 needs db (healthy): met\n\
             \x20 needs migrate (completed_successfully): not met\n"
        );
        let dot = to_dot(&nodes());
        assert!(dot.starts_with("digraph dependencies {\n"), "{dot}");
        assert!(
            dot.contains("  \"web:app\" -> \"db\" [label=\"healthy\", style=solid];\n"),
            "{dot}"
        );
        assert!(
            dot.contains(
                "  \"web:app\" -> \"migrate\" [label=\"completed_successfully\", style=dashed];\n"
            ),
            "{dot}"
        );
        assert!(dot.ends_with("}\n"));
    }
}
