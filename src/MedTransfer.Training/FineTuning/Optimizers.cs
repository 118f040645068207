using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MedTransfer.Training.FineTuning;

/// <summary>A group of parameters sharing a learning-rate multiplier and a weight decay.</summary>
/// <param name="Name">Group name ("stage3", "head", …).</param>
/// <param name="Parameters">The parameters with their names.</param>
/// <param name="LrMultiplier">Learning rate = schedule rate × this.</param>
/// <param name="WeightDecay">Weight decay of the group.</param>
public sealed record ParameterGroup(string Name, IReadOnlyList<(string Name, Parameter Parameter)> Parameters, double LrMultiplier, double WeightDecay);

/// <summary>
/// A first-order optimizer over <see cref="ParameterGroup"/>s. Written here rather than taken from
/// TorchSharp so that its whole state is named tensors that checkpoints store and restore exactly
/// (resume must reproduce an uninterrupted run bit for bit). Parameters without a gradient (frozen)
/// are skipped, and their state is not created.
/// </summary>
public abstract class GroupOptimizer
{
    private readonly Dictionary<string, Tensor> _state = new(StringComparer.Ordinal);

    /// <summary>Creates the optimizer.</summary>
    protected GroupOptimizer(IReadOnlyList<ParameterGroup> groups)
    {
        Groups = groups;
    }

    /// <summary>The groups.</summary>
    public IReadOnlyList<ParameterGroup> Groups { get; }

    /// <summary>Steps taken.</summary>
    public long StepCount { get; set; }

    /// <summary>Named state tensors (e.g. "features.backbone.graph.stem_conv1.weight#momentum").</summary>
    public IReadOnlyDictionary<string, Tensor> State => _state;

    /// <summary>Creates the optimizer named in a configuration ("sgd" or "adamw").</summary>
    public static GroupOptimizer Create(string name, IReadOnlyList<ParameterGroup> groups, double momentum) => name switch
    {
        "sgd" => new SgdOptimizer(groups, momentum),
        "adamw" => new AdamWOptimizer(groups, momentum, 0.999, 1e-8),
        _ => throw new ArgumentException($"Unknown optimizer '{name}'; known: sgd, adamw.", nameof(name)),
    };

    /// <summary>Clears gradients.</summary>
    public void ZeroGrad()
    {
        foreach (ParameterGroup g in Groups)
        {
            foreach ((_, Parameter p) in g.Parameters)
            {
                if (p.grad is { } grad)
                {
                    grad.zero_();
                }
            }
        }
    }

    /// <summary>Applies one update with learning rate <paramref name="learningRate"/> × each group's multiplier.</summary>
    public void Step(double learningRate)
    {
        StepCount++;
        using var guard = no_grad();
        using var scope = NewDisposeScope();
        foreach (ParameterGroup g in Groups)
        {
            double lr = learningRate * g.LrMultiplier;
            foreach ((string name, Parameter p) in g.Parameters)
            {
                if (p.grad is { } grad && p.requires_grad)
                {
                    Update(name, p, grad, lr, g.WeightDecay);
                }
            }
        }
    }

    /// <summary>Replaces the state with a copy of <paramref name="state"/> (from a checkpoint).</summary>
    public void LoadState(IReadOnlyDictionary<string, Tensor> state, long stepCount)
    {
        ArgumentNullException.ThrowIfNull(state);
        foreach (Tensor t in _state.Values)
        {
            t.Dispose();
        }

        _state.Clear();
        foreach ((string k, Tensor v) in state)
        {
            Tensor copy = v.detach().clone();
            copy.DetachFromDisposeScope();
            _state[k] = copy;
        }

        StepCount = stepCount;
    }

    /// <summary>Frees the state tensors.</summary>
    public void DisposeState()
    {
        foreach (Tensor t in _state.Values)
        {
            t.Dispose();
        }

        _state.Clear();
    }

    /// <summary>The update rule for one parameter.</summary>
    protected abstract void Update(string name, Parameter parameter, Tensor grad, double lr, double weightDecay);

    /// <summary>State tensor <paramref name="key"/> of a parameter, created (zeros like the parameter) on first use.</summary>
    protected Tensor StateOf(string name, string key, Parameter like, out bool created)
    {
        string full = name + "#" + key;
        if (_state.TryGetValue(full, out Tensor? t))
        {
            created = false;
            return t;
        }

        t = zeros_like(like);
        t.DetachFromDisposeScope();
        _state[full] = t;
        created = true;
        return t;
    }
}

/// <summary>SGD with momentum and L2 weight decay, PyTorch's rule: v ← μv + (g + λw); w ← w − η·v (v⁰ = g).</summary>
public sealed class SgdOptimizer : GroupOptimizer
{
    private readonly double _momentum;

    /// <summary>Creates the optimizer.</summary>
    public SgdOptimizer(IReadOnlyList<ParameterGroup> groups, double momentum)
        : base(groups)
    {
        _momentum = momentum;
    }

    /// <inheritdoc/>
    protected override void Update(string name, Parameter parameter, Tensor grad, double lr, double weightDecay)
    {
        Tensor g = weightDecay > 0 ? grad.add(parameter, weightDecay) : grad;
        if (_momentum > 0)
        {
            Tensor buffer = StateOf(name, "momentum", parameter, out bool created);
            if (created)
            {
                buffer.copy_(g);
            }
            else
            {
                buffer.mul_(_momentum).add_(g);
            }

            g = buffer;
        }

        parameter.add_(g, -lr);
    }
}

/// <summary>AdamW (Loshchilov &amp; Hutter 2019): decoupled weight decay w ← w(1 − ηλ), then the bias-corrected Adam step.</summary>
public sealed class AdamWOptimizer : GroupOptimizer
{
    private readonly double _beta1;
    private readonly double _beta2;
    private readonly double _epsilon;

    /// <summary>Creates the optimizer.</summary>
    public AdamWOptimizer(IReadOnlyList<ParameterGroup> groups, double beta1, double beta2, double epsilon)
        : base(groups)
    {
        _beta1 = beta1;
        _beta2 = beta2;
        _epsilon = epsilon;
    }

    /// <inheritdoc/>
    protected override void Update(string name, Parameter parameter, Tensor grad, double lr, double weightDecay)
    {
        if (weightDecay > 0)
        {
            parameter.mul_(1 - (lr * weightDecay));
        }

        Tensor m = StateOf(name, "exp_avg", parameter, out _);
        Tensor v = StateOf(name, "exp_avg_sq", parameter, out _);
        m.mul_(_beta1).add_(grad, 1 - _beta1);
        v.mul_(_beta2).addcmul_(grad, grad, 1 - _beta2);
        double bc1 = 1 - Math.Pow(_beta1, StepCount);
        double bc2 = 1 - Math.Pow(_beta2, StepCount);
        Tensor denom = v.div(bc2).sqrt_().add_(_epsilon);
        parameter.addcdiv_(m, denom, -lr / bc1);
    }
}

/// <summary>Learning-rate schedules (<see cref="Configuration.ScheduleNames"/>): the rate at step t of T, p = t/T.</summary>
public static class LearningRateSchedule
{
    /// <summary>The rate at step <paramref name="step"/> (0-based) of <paramref name="total"/>.</summary>
    /// <param name="name">"constant" (η₀), "cosine" (η₀·½(1+cos πp)), "step" (η₀, ×0.1 from p = ½, ×0.01 from p = ¾) or "dann" (η₀·(1+γp)^−0.75, Ganin et al. 2016).</param>
    /// <param name="baseRate">η₀.</param>
    /// <param name="step">t.</param>
    /// <param name="total">T.</param>
    /// <param name="dannGamma">γ of the DANN schedule (10 in the paper).</param>
    public static double Rate(string name, double baseRate, long step, long total, double dannGamma = 10)
    {
        double p = total <= 0 ? 0 : Math.Clamp((double)step / total, 0, 1);
        return name switch
        {
            "constant" => baseRate,
            "cosine" => baseRate * 0.5 * (1 + Math.Cos(Math.PI * p)),
            "step" => baseRate * (p >= 0.75 ? 0.01 : p >= 0.5 ? 0.1 : 1),
            "dann" => baseRate * Math.Pow(1 + (dannGamma * p), -0.75),
            _ => throw new ArgumentException($"Unknown schedule '{name}'; known: constant, cosine, step, dann.", nameof(name)),
        };
    }
}
