//! The dependency graph between processes, from their `depends_on` keys: a pure structure
//! with the questions the configuration check and the daemon ask of it (topological order,
//! a cycle, who depends on whom). Nodes are namespecs (`group:name`, or `name` when the
//! group is named after its only program), in configuration order.
//!
//! A `depends_on` target is resolved ([`resolve`]) as: `group:*` every process of the group;
//! `group:name` that process; a bare name the processes of that program (`numprocs` of
//! them), else the processes of that group.

use crate::depends::Condition;
use crate::model::{GroupConfig, ProcessConfig};
use std::collections::HashMap;

/// `group:name`, or `name` when both are the same (as supervisorctl shows it).
pub fn namespec(group: &str, name: &str) -> String {
    if group == name {
        name.to_owned()
    } else {
        format!("{group}:{name}")
    }
}

/// The processes a `depends_on` target names; `None` if it names nothing.
pub fn resolve<'a>(groups: &'a [GroupConfig], target: &str) -> Option<Vec<&'a ProcessConfig>> {
    let all = || {
        groups
            .iter()
            .flat_map(|group| group.processes.iter().map(|p| &**p))
    };
    let found: Vec<&ProcessConfig> = match target.split_once(':') {
        Some((group, "*")) => all().filter(|p| p.group == group).collect(),
        Some((group, name)) => all()
            .filter(|p| p.group == group && p.name == name)
            .collect(),
        None => {
            let programs: Vec<_> = all().filter(|p| p.program_name == target).collect();
            if programs.is_empty() {
                all().filter(|p| p.group == target).collect()
            } else {
                programs
            }
        }
    };
    (!found.is_empty()).then_some(found)
}

/// The process with this namespec.
pub fn find_process<'a>(groups: &'a [GroupConfig], node: &str) -> Option<&'a ProcessConfig> {
    groups
        .iter()
        .flat_map(|group| group.processes.iter().map(|p| &**p))
        .find(|p| namespec(&p.group, &p.name) == node)
}

/// One edge: the dependent needs `dependency` to have reached `condition`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    /// Node index of the dependency.
    pub dependency: usize,
    /// What it must have reached.
    pub condition: Condition,
    /// The `depends_on` target the edge came from, as written (`bus:*`).
    pub target: String,
}

/// Processes and their dependency edges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Graph {
    nodes: Vec<String>,
    index: HashMap<String, usize>,
    /// Per node, what it depends on.
    edges: Vec<Vec<Edge>>,
    /// Per node, the nodes that depend on it.
    dependents: Vec<Vec<usize>>,
}

impl Graph {
    /// A graph of these nodes and no edges.
    pub fn new(nodes: impl IntoIterator<Item = String>) -> Self {
        let mut graph = Graph::default();
        for node in nodes {
            if graph.index.contains_key(&node) {
                continue;
            }
            graph.index.insert(node.clone(), graph.nodes.len());
            graph.nodes.push(node);
            graph.edges.push(Vec::new());
            graph.dependents.push(Vec::new());
        }
        graph
    }

    /// The graph of a configuration's processes (targets that name nothing are left out: the
    /// configuration check reports them).
    pub fn from_groups(groups: &[GroupConfig]) -> Self {
        let processes = || groups.iter().flat_map(|group| group.processes.iter());
        let mut graph = Graph::new(processes().map(|p| namespec(&p.group, &p.name)));
        for process in processes() {
            let dependent = namespec(&process.group, &process.name);
            for dependency in &process.deps.depends_on {
                for target in resolve(groups, &dependency.target).unwrap_or_default() {
                    graph.add_edge(
                        &dependent,
                        &namespec(&target.group, &target.name),
                        dependency.condition,
                        &dependency.target,
                    );
                }
            }
        }
        graph
    }

    /// Adds "`dependent` needs `dependency` at `condition`" (unknown nodes are ignored).
    pub fn add_edge(
        &mut self,
        dependent: &str,
        dependency: &str,
        condition: Condition,
        target: &str,
    ) {
        let (Some(&from), Some(&to)) = (self.index.get(dependent), self.index.get(dependency))
        else {
            return;
        };
        let edge = Edge {
            dependency: to,
            condition,
            target: target.to_owned(),
        };
        if !self.edges[from].contains(&edge) {
            self.edges[from].push(edge);
        }
        if !self.dependents[to].contains(&from) {
            self.dependents[to].push(from);
        }
    }

    /// Whether any node has a dependency (a configuration without `depends_on` has none).
    pub fn has_edges(&self) -> bool {
        self.edges.iter().any(|edges| !edges.is_empty())
    }

    /// The node names, in the order given.
    pub fn nodes(&self) -> &[String] {
        &self.nodes
    }

    /// The index of a node.
    pub fn node(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// The name of a node index.
    pub fn name(&self, node: usize) -> &str {
        &self.nodes[node]
    }

    /// What `node` depends on.
    pub fn dependencies(&self, node: usize) -> &[Edge] {
        &self.edges[node]
    }

    /// The nodes that depend on `node` directly.
    pub fn dependents(&self, node: usize) -> &[usize] {
        &self.dependents[node]
    }

    /// Every node that depends on `node`, directly or not, dependents of dependents last.
    pub fn all_dependents(&self, node: usize) -> Vec<usize> {
        self.closure(node, |n| self.dependents[n].clone())
    }

    /// Every node `node` depends on, directly or not, dependencies of dependencies last.
    pub fn all_dependencies(&self, node: usize) -> Vec<usize> {
        self.closure(node, |n| {
            self.edges[n].iter().map(|e| e.dependency).collect()
        })
    }

    fn closure(&self, node: usize, next: impl Fn(usize) -> Vec<usize>) -> Vec<usize> {
        let mut seen = vec![false; self.nodes.len()];
        seen[node] = true;
        let mut order = Vec::new();
        let mut queue = std::collections::VecDeque::from([node]);
        while let Some(current) = queue.pop_front() {
            for other in next(current) {
                if !std::mem::replace(&mut seen[other], true) {
                    order.push(other);
                    queue.push_back(other);
                }
            }
        }
        order
    }

    /// Every node, each after all its dependencies; among nodes free at the same time, the
    /// order given (so priorities decide among independent programs). `Err` with a cycle.
    pub fn topological_order(&self) -> Result<Vec<usize>, Vec<String>> {
        let mut waiting: Vec<usize> = self
            .edges
            .iter()
            .map(|edges| {
                let mut distinct: Vec<usize> = edges.iter().map(|e| e.dependency).collect();
                distinct.sort_unstable();
                distinct.dedup();
                distinct.len()
            })
            .collect();
        let mut done = vec![false; self.nodes.len()];
        let mut order = Vec::with_capacity(self.nodes.len());
        // Smallest free index first: Kahn's algorithm with the given order as tie-break.
        let mut free: std::collections::BTreeSet<usize> =
            (0..self.nodes.len()).filter(|n| waiting[*n] == 0).collect();
        while let Some(node) = free.pop_first() {
            done[node] = true;
            order.push(node);
            for &dependent in &self.dependents[node] {
                waiting[dependent] -= 1;
                if waiting[dependent] == 0 && !done[dependent] {
                    free.insert(dependent);
                }
            }
        }
        if order.len() == self.nodes.len() {
            Ok(order)
        } else {
            Err(self.find_cycle().unwrap_or_default())
        }
    }

    /// A cycle, as the nodes along it (`a` depends on `b` ... depends on `a`), starting at
    /// its first node in the given order; `None` if the graph has none.
    pub fn find_cycle(&self) -> Option<Vec<String>> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            OnPath,
            Done,
        }
        let mut marks = vec![Mark::New; self.nodes.len()];
        for start in 0..self.nodes.len() {
            if marks[start] != Mark::New {
                continue;
            }
            // Iterative depth-first search: (node, next edge to follow).
            let mut path: Vec<(usize, usize)> = vec![(start, 0)];
            marks[start] = Mark::OnPath;
            while let Some(&mut (node, ref mut next)) = path.last_mut() {
                let Some(edge) = self.edges[node].get(*next) else {
                    marks[node] = Mark::Done;
                    path.pop();
                    continue;
                };
                *next += 1;
                let to = edge.dependency;
                match marks[to] {
                    Mark::OnPath => {
                        let from = path.iter().position(|(n, _)| *n == to).unwrap_or(0);
                        return Some(
                            path[from..]
                                .iter()
                                .map(|(n, _)| self.nodes[*n].clone())
                                .collect(),
                        );
                    }
                    Mark::New => {
                        marks[to] = Mark::OnPath;
                        path.push((to, 0));
                    }
                    Mark::Done => {}
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(nodes: &[&str], edges: &[(&str, &str)]) -> Graph {
        let mut graph = Graph::new(nodes.iter().map(|n| n.to_string()));
        for (dependent, dependency) in edges {
            graph.add_edge(dependent, dependency, Condition::Running, dependency);
        }
        graph
    }

    fn names(graph: &Graph, nodes: &[usize]) -> Vec<String> {
        nodes.iter().map(|n| graph.name(*n).to_owned()).collect()
    }

    #[test]
    fn topological_order_keeps_the_given_order_among_free_nodes() {
        // app needs db and cache; worker needs app; z is independent.
        let g = graph(
            &["worker", "app", "z", "db", "cache"],
            &[("app", "db"), ("app", "cache"), ("worker", "app")],
        );
        let order = g.topological_order().expect("no cycle");
        assert_eq!(names(&g, &order), ["z", "db", "cache", "app", "worker"]);
        assert!(g.has_edges());
        assert!(!graph(&["a", "b"], &[]).has_edges());
        assert_eq!(
            names(&graph(&["b", "a"], &[]), &[0, 1]),
            ["b", "a"],
            "no edges: the given order"
        );
    }

    #[test]
    fn finds_the_whole_cycle() {
        let g = graph(
            &["a", "b", "c", "d"],
            &[("a", "b"), ("b", "c"), ("c", "a"), ("d", "a")],
        );
        assert_eq!(
            g.find_cycle(),
            Some(vec!["a".into(), "b".into(), "c".into()])
        );
        assert_eq!(
            g.topological_order(),
            Err(vec!["a".into(), "b".into(), "c".into()])
        );
        let self_loop = graph(&["a"], &[("a", "a")]);
        assert_eq!(self_loop.find_cycle(), Some(vec!["a".into()]));
        let diamond = graph(
            &["top", "l", "r", "base"],
            &[("top", "l"), ("top", "r"), ("l", "base"), ("r", "base")],
        );
        assert_eq!(diamond.find_cycle(), None);
    }

    #[test]
    fn dependents_and_dependencies_transitively() {
        let g = graph(
            &["db", "api", "web", "cron"],
            &[("api", "db"), ("web", "api"), ("cron", "db")],
        );
        let db = g.node("db").expect("db");
        assert_eq!(names(&g, g.dependents(db)), ["api", "cron"]);
        assert_eq!(names(&g, &g.all_dependents(db)), ["api", "cron", "web"]);
        let web = g.node("web").expect("web");
        assert_eq!(names(&g, &g.all_dependencies(web)), ["api", "db"]);
        assert!(g.all_dependents(web).is_empty());
        // Unknown nodes and repeated edges change nothing.
        let mut again = g.clone();
        again.add_edge("api", "db", Condition::Running, "db");
        again.add_edge("api", "nope", Condition::Running, "nope");
        assert_eq!(again, g);
    }
}
