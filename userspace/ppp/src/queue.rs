//! Output queues that hold no memory while empty.
//!
//! A link's queues (frames to send, events, each automaton's outputs) fill in bursts during
//! negotiation and then stay empty for the life of the session. A `VecDeque` keeps its buffer
//! after the last pop and is 32 bytes even when empty: four of them per link held ~770 bytes
//! of every idle session (tests/bench/host/l2tpns-scale.sh, docs/BENCHMARKS.md "Where a
//! session's bytes go"). A [`Queue`] is one pointer, allocated for a burst and freed when it
//! runs dry.

use std::collections::VecDeque;

/// A FIFO that is a null pointer while empty. The box is the point (clippy's
/// `box_collection` assumes the collection's own 32 bytes do not matter; here they are paid
/// four times per subscriber).
#[derive(Debug, Clone)]
#[allow(clippy::box_collection)]
pub(crate) struct Queue<T>(Option<Box<VecDeque<T>>>);

impl<T> Default for Queue<T> {
    fn default() -> Self {
        Queue(None)
    }
}

impl<T> Queue<T> {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn push_back(&mut self, item: T) {
        self.0.get_or_insert_with(Box::default).push_back(item);
    }

    /// The oldest item; the buffer is freed when this empties the queue.
    pub(crate) fn pop_front(&mut self) -> Option<T> {
        let q = self.0.as_mut()?;
        let item = q.pop_front();
        if q.is_empty() {
            self.0 = None;
        }
        item
    }

    pub(crate) fn clear(&mut self) {
        self.0 = None;
    }

    #[cfg(test)]
    fn holds_memory(&self) -> bool {
        self.0.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_order_and_no_memory_once_empty() {
        let mut q = Queue::new();
        assert!(!q.holds_memory());
        for i in 0..5 {
            q.push_back(i);
        }
        assert_eq!(q.pop_front(), Some(0));
        assert!(q.holds_memory(), "not empty yet");
        q.push_back(5);
        let rest: Vec<_> = std::iter::from_fn(|| q.pop_front()).collect();
        assert_eq!(rest, [1, 2, 3, 4, 5]);
        assert!(!q.holds_memory());
        assert_eq!(q.pop_front(), None);
        q.push_back(9);
        q.clear();
        assert!(!q.holds_memory());
        assert_eq!(
            std::mem::size_of::<Queue<Vec<u8>>>(),
            std::mem::size_of::<usize>()
        );
    }
}
