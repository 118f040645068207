using System.Text.Json.Serialization;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MedTransfer.Training.Adaptation;

/// <summary>Test-time adaptation for batch diagnosis.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<TestTimeAdaptationMode>))]
public enum TestTimeAdaptationMode
{
    /// <summary>No adaptation: plain eval-mode inference (the default).</summary>
    None,

    /// <summary>AdaBN over the incoming batch: BatchNorm statistics replaced by the batch's, then eval-mode inference.</summary>
    AdaBN,

    /// <summary>
    /// TENT (Wang et al., ICLR 2021): BatchNorm normalises with the batch's statistics and only the BatchNorm affine
    /// parameters (γ, β) take <see cref="TestTimeAdaptationOptions.TentSteps"/> SGD steps that minimise the mean
    /// prediction entropy of the batch; the prediction is made after the updates.
    /// </summary>
    Tent,
}

/// <summary>Test-time adaptation settings; <see cref="TestTimeAdaptationMode.None"/> unless asked for.</summary>
/// <param name="Mode">The mode.</param>
/// <param name="TentSteps">TENT gradient steps per batch (1 in the paper).</param>
/// <param name="TentLearningRate">TENT SGD learning rate (paper, ImageNet: 0.00025 for batch 64).</param>
/// <param name="TentMomentum">TENT SGD momentum (0.9).</param>
public sealed record TestTimeAdaptationOptions(
    TestTimeAdaptationMode Mode = TestTimeAdaptationMode.None,
    int TentSteps = 1,
    double TentLearningRate = 0.00025,
    double TentMomentum = 0.9);

/// <summary>Adapts a model to one incoming batch and predicts it.</summary>
public static class TestTimeAdaptation
{
    /// <summary>
    /// Predicts logits for <paramref name="batch"/> after the adaptation of <paramref name="options"/>. AdaBN and TENT
    /// change the model in place (BatchNorm statistics; TENT also γ and β): pass a copy to keep the original. Every
    /// module's train/eval flag and requires-grad flag is restored. Returns detached logits in the caller's scope.
    /// </summary>
    /// <exception cref="AdaptationException">TENT settings out of range, or a mode needs BatchNorm layers and the model has none.</exception>
    public static Tensor Predict(nn.Module<Tensor, Tensor> model, Tensor batch, TestTimeAdaptationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(batch);
        options ??= new TestTimeAdaptationOptions();
        switch (options.Mode)
        {
            case TestTimeAdaptationMode.None:
                return EvalForward(model, batch);
            case TestTimeAdaptationMode.AdaBN:
                BatchNormRecomputeResult result = AdaBN.Recompute(model, [batch]);
                if (result.Layers == 0)
                {
                    throw new AdaptationException(AdaptationErrorCode.InvalidData, "Test-time AdaBN needs a model with BatchNorm layers.");
                }

                return EvalForward(model, batch);
            case TestTimeAdaptationMode.Tent:
                return Tent(model, batch, options);
            default:
                throw new AdaptationException(AdaptationErrorCode.InvalidHyperparameter, $"Unknown test-time adaptation mode {(int)options.Mode}.");
        }
    }

    private static Tensor EvalForward(nn.Module<Tensor, Tensor> model, Tensor batch)
    {
        bool wasTraining = model.training;
        try
        {
            model.eval();
            using var noGrad = no_grad();
            return model.forward(batch).detach();
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    private static Tensor Tent(nn.Module<Tensor, Tensor> model, Tensor batch, TestTimeAdaptationOptions options)
    {
        if (options.TentSteps < 1 || !(options.TentLearningRate > 0) || !(options.TentMomentum >= 0))
        {
            throw new AdaptationException(AdaptationErrorCode.InvalidHyperparameter, "TENT needs ≥ 1 step, a positive learning rate and momentum ≥ 0.");
        }

        List<BatchNorm> norms = [.. model.modules().OfType<BatchNorm>()];
        List<Parameter> affine = [.. norms.Where(b => b.affine).SelectMany(b => new[] { b.weight, b.bias }).OfType<Parameter>()];
        if (affine.Count == 0)
        {
            throw new AdaptationException(AdaptationErrorCode.InvalidData, "TENT needs a model with affine BatchNorm layers.");
        }

        List<(nn.Module Module, bool Training)> modes = [.. model.modules().Select(m => (m, m.training))];
        List<(Parameter P, bool RequiresGrad)> grads = [.. model.parameters().Select(p => (p, p.requires_grad))];
        var momenta = norms.Select(b => b.momentum).ToList();
        var affineSet = new HashSet<Parameter>(affine, ReferenceEqualityComparer.Instance);
        try
        {
            model.eval();
            foreach (BatchNorm bn in norms)
            {
                // Train mode normalises with the batch's statistics; momentum 0 keeps the running statistics unchanged.
                bn.momentum = 0.0;
                bn.train();
            }

            foreach ((Parameter p, _) in grads)
            {
                p.requires_grad = affineSet.Contains(p);
            }

            using var optimizer = optim.SGD(affine, options.TentLearningRate, options.TentMomentum);
            for (int step = 0; step < options.TentSteps; step++)
            {
                using var scope = NewDisposeScope();
                optimizer.zero_grad();
                Tensor loss = AdaptationLosses.EntropyMinimization(model.forward(batch));
                loss.backward();
                optimizer.step();
            }

            using var noGrad = no_grad();
            return model.forward(batch).detach();
        }
        finally
        {
            for (int i = 0; i < norms.Count; i++)
            {
                norms[i].momentum = momenta[i];
            }

            foreach ((Parameter p, bool requiresGrad) in grads)
            {
                p.requires_grad = requiresGrad;
            }

            foreach ((nn.Module module, bool training) in modes)
            {
                module.train(training);
            }
        }
    }
}
