//! Behaviour of the GAN chapter's library items: losses at hand-computed points, the shapes of
//! the DCGAN networks, which parameters each update step changes, learning the toy Gaussian, and
//! the Pokémon stand-in's format and determinism.

use d2l::prelude::*;
use tch::nn::ModuleT;

fn cpu_float() -> (Kind, Device) {
    (Kind::Float, Device::Cpu)
}

/// A copy of every parameter of a variable store, by name.
fn snapshot(vs: &nn::VarStore) -> Vec<(String, Tensor)> {
    let mut vars: Vec<_> = vs
        .variables()
        .into_iter()
        .map(|(name, t)| (name, t.detach().copy()))
        .collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    vars
}

fn changed(before: &[(String, Tensor)], vs: &nn::VarStore) -> bool {
    let after = snapshot(vs);
    before
        .iter()
        .zip(&after)
        .any(|((_, a), (_, b))| !a.allclose(b, 0.0, 0.0, false))
}

#[test]
fn losses_at_hand_computed_points() {
    let zeros = Tensor::zeros([5, 1], cpu_float());
    // Logit 0 is probability 1/2: each cross-entropy is ln 2, the discriminator's sum 2 ln 2.
    let d = d2l::discriminator_loss(&zeros, &zeros).double_value(&[]);
    assert!((d - 2.0 * 2f64.ln()).abs() < 1e-6, "{d}");
    let g = d2l::generator_loss(&zeros).double_value(&[]);
    assert!((g - 2f64.ln()).abs() < 1e-6, "{g}");
    // Real logits 1 and fake logits -1: 2 ln(1 + e^-1) ≈ 0.626523; the generator then pays
    // -ln σ(-1) = ln(1 + e) ≈ 1.313262.
    let ones = Tensor::ones([3, 1], cpu_float());
    let d = d2l::discriminator_loss(&ones, &(-&ones)).double_value(&[]);
    let expected = 2.0 * (1.0 + (-1f64).exp()).ln();
    assert!((d - expected).abs() < 1e-6, "{d} vs {expected}");
    let g = d2l::generator_loss(&(-&ones)).double_value(&[]);
    let expected = (1.0 + 1f64.exp()).ln();
    assert!((g - expected).abs() < 1e-6, "{g} vs {expected}");
}

#[test]
fn dcgan_shapes() {
    tch::manual_seed(0);
    let vs = nn::VarStore::new(Device::Cpu);
    let generator = d2l::dcgan_generator(&(vs.root() / "g"), 100, 8);
    let discriminator = d2l::dcgan_discriminator(&(vs.root() / "d"), 8);
    let z = Tensor::randn([3, 100, 1, 1], cpu_float());
    let images = generator.forward_t(&z, true);
    assert_eq!(images.size(), [3, 3, 64, 64]);
    assert!(images.abs().max().double_value(&[]) <= 1.0, "tanh output");
    let logits = discriminator.forward_t(&images, true);
    assert_eq!(logits.size(), [3, 1]);
    let block = d2l::dcgan_g_block(&(vs.root() / "b"), 16, 4, 2, 1);
    assert_eq!(
        block
            .forward_t(&Tensor::zeros([1, 16, 8, 8], cpu_float()), false)
            .size(),
        [1, 4, 16, 16]
    );
    let block = d2l::dcgan_d_block(&(vs.root() / "c"), 4, 16, true);
    assert_eq!(
        block
            .forward_t(&Tensor::zeros([1, 4, 16, 16], cpu_float()), false)
            .size(),
        [1, 16, 8, 8]
    );
}

#[test]
fn each_update_changes_only_its_network() {
    tch::manual_seed(1);
    let vs_g = nn::VarStore::new(Device::Cpu);
    let vs_d = nn::VarStore::new(Device::Cpu);
    let generator = d2l::toy_gan_generator(&vs_g.root(), 2);
    let discriminator = d2l::toy_gan_discriminator(&vs_d.root());
    let mut opt_g = nn::Adam::default().build(&vs_g, 0.01).unwrap();
    let mut opt_d = nn::Adam::default().build(&vs_d, 0.01).unwrap();
    let real = Tensor::randn([16, 2], cpu_float()) + 3.0;
    let noise = Tensor::randn([16, 2], cpu_float());

    let (g0, d0) = (snapshot(&vs_g), snapshot(&vs_d));
    let loss = d2l::update_discriminator(&real, &noise, &discriminator, &generator, &mut opt_d);
    assert!(loss.is_finite() && loss > 0.0);
    assert!(changed(&d0, &vs_d), "the discriminator step must change D");
    assert!(
        !changed(&g0, &vs_g),
        "the discriminator step must not change G"
    );

    let (g1, d1) = (snapshot(&vs_g), snapshot(&vs_d));
    let loss = d2l::update_generator(&noise, &discriminator, &generator, &mut opt_g);
    assert!(loss.is_finite() && loss > 0.0);
    assert!(changed(&g1, &vs_g), "the generator step must change G");
    assert!(!changed(&d1, &vs_d), "the generator step must not change D");
}

#[test]
fn toy_gan_learns_the_mean() {
    tch::manual_seed(0);
    let toy = d2l::ToyGaussian::new(
        &Tensor::from_slice2(&[[1.0f32, 0.6], [-0.8, 0.4]]),
        &Tensor::from_slice(&[2.0f32, 1.0]),
    );
    // Hand-computed moments: the mean is b, the covariance AᵀA.
    let cov = Vec::<f32>::try_from(toy.covariance().flatten(0, -1)).unwrap();
    for (got, want) in cov.iter().zip([1.64f32, 0.28, 0.28, 0.52]) {
        assert!((got - want).abs() < 1e-5, "{cov:?}");
    }
    let data = toy.sample(1000);
    assert_eq!(data.size(), [1000, 2]);
    let vs_g = nn::VarStore::new(Device::Cpu);
    let vs_d = nn::VarStore::new(Device::Cpu);
    let generator = d2l::toy_gan_generator(&vs_g.root(), 2);
    let discriminator = d2l::toy_gan_discriminator(&vs_d.root());
    let mut opt_g = nn::Adam::default().build(&vs_g, 0.005).unwrap();
    let mut opt_d = nn::Adam::default().build(&vs_d, 0.02).unwrap();
    let mean_distance = |generator: &nn::Sequential| {
        let fake = tch::no_grad(|| generator.forward(&Tensor::randn([5000, 2], cpu_float())));
        (fake.mean_dim(0, false, Kind::Float) - toy.mean())
            .norm()
            .double_value(&[])
    };
    let before = mean_distance(&generator);
    assert!(
        before > 1.0,
        "untrained generator already at the mean: {before}"
    );
    // 10 epochs of 125 minibatches of 8 points: 1,250 alternating steps.
    let loader = TensorLoader::new(data, 8).unwrap().shuffle(true).seed(0);
    for _ in 0..10 {
        for real in &loader {
            let noise = Tensor::randn([real.size()[0], 2], cpu_float());
            d2l::update_discriminator(&real, &noise, &discriminator, &generator, &mut opt_d);
            d2l::update_generator(&noise, &discriminator, &generator, &mut opt_g);
        }
    }
    let after = mean_distance(&generator);
    // Measured: 2.78 before, 0.81 after (seed 0); the generator must at least halve the gap.
    assert!(
        after < 0.5 * before,
        "generated mean still {after} from the real mean (was {before})"
    );
}

#[test]
fn pokemon_stand_in_has_the_real_format_and_is_deterministic() {
    let sprites = d2l::pokemon_stand_in(6, 3);
    assert_eq!(sprites.size(), [6, 3, 64, 64]);
    assert_eq!(sprites.kind(), Kind::Uint8);
    // White background in the corners, a drawn creature in the middle.
    let corners = sprites.narrow(2, 0, 2).narrow(3, 0, 2);
    assert_eq!(corners.min().int64_value(&[]), 255);
    let non_white = sprites
        .ne(255)
        .any_dim(1, false)
        .sum(Kind::Int64)
        .int64_value(&[]);
    assert!(
        non_white > 6 * 200,
        "only {non_white} drawn pixels in 6 sprites"
    );
    assert!(sprites.equal(&d2l::pokemon_stand_in(6, 3)));
    assert!(!sprites.equal(&d2l::pokemon_stand_in(6, 4)));
    // The sprites differ from each other.
    assert!(!sprites.get(0).equal(&sprites.get(1)));
}

#[test]
fn pokemon_stand_in_files_round_trip_through_the_loader() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("pokemon-synthetic");
    d2l::data::write_stand_in(&dir, "test", |d| d2l::write_pokemon_stand_in(d, 25, 7)).unwrap();
    assert!(dir.join("SYNTHETIC.md").is_file());
    let loaded = d2l::PokemonSprites::load_dir(&dir, 64).unwrap();
    assert!(loaded.synthetic);
    assert_eq!(loaded.num_images(), 25);
    assert_eq!(loaded.images.size(), [25, 3, 64, 64]);
    assert!(
        loaded.images.equal(&d2l::pokemon_stand_in(25, 7)),
        "PNG is lossless"
    );
    let floats = d2l::PokemonSprites::normalize(&loaded.images);
    assert_eq!(floats.kind(), Kind::Float);
    assert!(floats.min().double_value(&[]) >= -1.0 && floats.max().double_value(&[]) <= 1.0);
    // Resizing on load.
    let small = d2l::PokemonSprites::load_dir(&dir, 32).unwrap();
    assert_eq!(small.images.size(), [25, 3, 32, 32]);
    assert!(d2l::PokemonSprites::load_dir(root.path().join("missing").as_path(), 64).is_err());
}
