//! Output queues that hold no memory while empty.
//!
//! A link's queues (frames to send, events, an automaton's outputs) fill in bursts during
//! negotiation and then stay empty for the life of the session. A `VecDeque` keeps its
//! buffer after the last pop, so every idle link held ~640 bytes of empty queue capacity
//! (tests/bench/host/l2tpns-scale.sh, docs/BENCHMARKS.md "Where a session's bytes go").
//! Giving the buffer back when the queue runs dry costs one allocation per burst.

use std::collections::VecDeque;

/// `q.pop_front()`, releasing the buffer once the queue is empty.
pub(crate) fn pop_releasing<T>(q: &mut VecDeque<T>) -> Option<T> {
    let item = q.pop_front();
    if q.is_empty() && q.capacity() > 0 {
        *q = VecDeque::new();
    }
    item
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_emptied_queue_holds_no_buffer() {
        let mut q: VecDeque<u32> = (0..5).collect();
        assert_eq!(pop_releasing(&mut q), Some(0));
        assert!(q.capacity() >= 4, "not empty yet: the buffer stays");
        while pop_releasing(&mut q).is_some() {}
        assert_eq!(q.capacity(), 0);
        assert_eq!(pop_releasing(&mut q), None);
    }
}
