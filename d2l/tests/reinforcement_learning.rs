//! Behaviour of the reinforcement-learning items of chapter 17 (`chapter_reinforcement-learning`):
//! the FrozenLake environment's transition model and sampling, value iteration against values
//! computed by hand and against Monte-Carlo rollouts, and Q-learning reaching a stated success rate.

use d2l::{
    greedy_policy, policy_evaluation, q_from_values, q_learning, success_rate, value_iteration,
    FrozenLake, Mdp, QLearning, SplitMix64,
};

#[test]
fn transition_probabilities_sum_to_one_for_every_state_and_action() {
    for slippery in [true, false] {
        let lake = FrozenLake::from_map(&FrozenLake::MAP_4X4, slippery, 0);
        assert_eq!((lake.num_states(), lake.num_actions()), (16, 4));
        for s in 0..lake.num_states() {
            for a in 0..lake.num_actions() {
                let outcomes = lake.transitions(s, a);
                let total: f64 = outcomes.iter().map(|t| t.prob).sum();
                assert!(
                    (total - 1.0).abs() < 1e-12,
                    "state {s}, action {a}: {outcomes:?}"
                );
                assert!(outcomes.iter().all(|t| t.next < 16 && t.prob > 0.0));
            }
        }
    }
}

#[test]
fn slippery_moves_follow_gym_frozen_lake() {
    let lake = FrozenLake::new(0);
    // From the start (top-left corner), "down" goes down, or sideways: left (stays) or right.
    let outcomes = lake.transitions(0, FrozenLake::DOWN);
    let nexts: Vec<usize> = outcomes.iter().map(|t| t.next).collect();
    assert_eq!(nexts, [0, 4, 1]);
    assert!(outcomes
        .iter()
        .all(|t| (t.prob - 1.0 / 3.0).abs() < 1e-12 && !t.done && t.reward == 0.0));
    // Next to the goal (state 14), "right" reaches it with reward 1 and ends the episode.
    let into_goal: Vec<_> = lake
        .transitions(14, FrozenLake::RIGHT)
        .into_iter()
        .filter(|t| t.next == 15)
        .collect();
    assert_eq!(into_goal.len(), 1);
    assert!(into_goal[0].reward == 1.0 && into_goal[0].done);
    // A hole ends the episode with nothing; holes and the goal absorb.
    let into_hole = lake.transitions(1, FrozenLake::DOWN);
    assert!(into_hole
        .iter()
        .any(|t| t.next == 5 && t.done && t.reward == 0.0));
    for terminal in [5, 7, 11, 12, 15] {
        assert!(lake.is_terminal(terminal));
        let t = lake.transitions(terminal, FrozenLake::UP);
        assert_eq!(t.len(), 1);
        assert_eq!((t[0].next, t[0].reward, t[0].done), (terminal, 0.0, true));
    }
}

#[test]
fn sampled_steps_match_the_transition_model_and_replay_from_a_seed() {
    let mut lake = FrozenLake::new(7);
    let trials = 30_000;
    let mut counts = [0usize; 16];
    for _ in 0..trials {
        lake.reset();
        let (next, _, _) = lake.step(FrozenLake::DOWN);
        counts[next] += 1;
    }
    for (next, expected) in [(0, 1.0 / 3.0), (4, 1.0 / 3.0), (1, 1.0 / 3.0)] {
        let freq = counts[next] as f64 / trials as f64;
        assert!((freq - expected).abs() < 0.015, "state {next}: {freq}");
    }
    let run = |seed| {
        let mut lake = FrozenLake::new(seed);
        lake.reset();
        (0..20).map(|i| lake.step(i % 4).0).collect::<Vec<_>>()
    };
    assert_eq!(run(3), run(3));
    let mut rng = SplitMix64::new(1);
    assert!((0..1000)
        .map(|_| rng.uniform())
        .all(|u| (0.0..1.0).contains(&u)));
}

#[test]
fn terminal_states_have_value_zero_and_one_step_values_are_known() {
    let lake = FrozenLake::new(0);
    let result = value_iteration(&lake, 0.9, 200);
    for terminal in [5, 7, 11, 12, 15] {
        assert_eq!(result.value()[terminal], 0.0);
    }
    // After one sweep only state 14 sees the goal: "down", "right" or "up" each reach it with 1/3.
    let v1 = &result.values[1];
    assert!((v1[14] - 1.0 / 3.0).abs() < 1e-12);
    assert!(v1.iter().enumerate().all(|(s, &v)| s == 14 || v == 0.0));
    // After two sweeps, state 10 reaches 14 with 1/3 (down), and state 14 improves by 1/3 * 0.9 * 1/3.
    let v2 = &result.values[2];
    assert!((v2[10] - 0.9 / 9.0).abs() < 1e-12, "{v2:?}");
    assert!((v2[14] - (1.0 / 3.0 + 0.9 / 9.0)).abs() < 1e-12, "{v2:?}");
}

#[test]
fn a_deterministic_chain_has_values_gamma_to_the_distance() {
    // S F F F G in a row, no slipping: from k+1 steps away the return is gamma^k.
    let chain = FrozenLake::from_map(&["SFFFG"], false, 0);
    let gamma = 0.9;
    let result = value_iteration(&chain, gamma, 50);
    for s in 0..4 {
        let steps_to_goal = 4 - s;
        let expected = gamma.powi(steps_to_goal as i32 - 1);
        assert!(
            (result.value()[s] - expected).abs() < 1e-12,
            "state {s}: {:?}",
            result.value()
        );
        assert_eq!(result.policy()[s], FrozenLake::RIGHT);
    }
    assert_eq!(result.value()[4], 0.0);
    // The action values of a state differ exactly as one step of discounting says.
    let q = q_from_values(&chain, result.value(), gamma);
    assert!((q[1][FrozenLake::LEFT] - gamma * result.value()[0]).abs() < 1e-12);
    assert_eq!(greedy_policy(&q)[..4], [FrozenLake::RIGHT; 4]);
}

#[test]
fn value_iterations_policy_succeeds_as_often_as_it_predicts() {
    let lake = FrozenLake::new(0);
    let result = value_iteration(&lake, 0.99, 1000);
    // Undiscounted evaluation: the value of the start state is the probability of reaching the goal.
    let predicted = policy_evaluation(&lake, result.policy(), 1.0, 5000)[lake.start()];
    assert!((predicted - 0.8235).abs() < 1e-3, "{predicted}");
    let mut rollouts = FrozenLake::new(42);
    let observed = success_rate(&mut rollouts, result.policy(), 20_000, 1000);
    // 20,000 episodes: the standard error is about 0.0027; allow about five of them.
    assert!(
        (observed - predicted).abs() < 0.015,
        "predicted {predicted}, observed {observed}"
    );
}

#[test]
fn q_learning_reaches_a_stated_success_rate() {
    let mut lake = FrozenLake::new(0);
    let mut q = vec![vec![0.0; lake.num_actions()]; lake.num_states()];
    let config = QLearning {
        gamma: 0.99,
        alpha: 0.05,
        epsilon: 0.5,
        max_steps: 100,
    };
    let mut rng = SplitMix64::new(100);
    let returns = q_learning(&mut lake, &mut q, &config, 20_000, &mut rng);
    assert_eq!(returns.len(), 20_000);
    let policy = greedy_policy(&q);
    let mut rollouts = FrozenLake::new(7);
    let rate = success_rate(&mut rollouts, &policy, 10_000, 1000);
    // The best possible is about 0.82; a random policy reaches the goal about 1.5 % of the time.
    assert!(rate > 0.75, "greedy success rate {rate}");
    // Terminal rows are never updated.
    for terminal in [5, 7, 11, 12, 15] {
        assert!(q[terminal].iter().all(|&v| v == 0.0));
    }
}
