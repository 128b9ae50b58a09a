//! Ids as sorted lists: tens of thousands are sorted and merged faster than they are
//! hashed, so a search's word lists meet and differ by walking them side by side.

/// Ids in ascending order, each once.
pub fn ascending(mut ids: Vec<i64>) -> Vec<i64> {
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// The ids in both ascending lists.
pub fn both(a: &[i64], b: &[i64]) -> Vec<i64> {
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

/// The ids of ascending list `a` that ascending list `b` lacks.
pub fn only_first(a: &[i64], b: &[i64]) -> Vec<i64> {
    let mut j = 0;
    a.iter()
        .copied()
        .filter(|id| {
            while j < b.len() && b[j] < *id {
                j += 1;
            }
            j == b.len() || b[j] != *id
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_id_lists_intersect_and_subtract_as_sets_do() {
        let a = ascending(vec![9, 1, 4, 4, 7, 2]);
        let b = ascending(vec![4, 10, 2, 8, 9]);
        assert_eq!(a, vec![1, 2, 4, 7, 9]);
        assert_eq!(both(&a, &b), vec![2, 4, 9]);
        assert_eq!(only_first(&a, &b), vec![1, 7]);
        assert_eq!(only_first(&a, &[]), a);
        assert!(both(&a, &[]).is_empty());
    }
}
