using Spectre.Console;
using KvActors.Bench.Load;

namespace KvActors.Bench.Compare;

/// <summary>
/// Progress while a row runs: a live status line (Spectre.Console) on a terminal, nothing on a pipe or file, where only
/// the finished rows' plain lines go. Everything printed goes through <see cref="Writer"/> so it never tears the live line.
/// </summary>
internal sealed class LiveDisplay(TextWriter output)
{
    private readonly bool _interactive = !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
    private readonly TextWriter _spectre = new SpectreLineWriter();

    /// <summary>Where lines go: above the live status on a terminal, straight to the output otherwise.</summary>
    public TextWriter Writer => _interactive ? _spectre : output;

    public async Task<RowResult> RunAsync(string title, Func<Action<RowProgress>, Task<RowResult>> run)
    {
        if (!_interactive) return await run(static _ => { });
        return await AnsiConsole.Status().StartAsync(Markup.Escape(title), context => run(p =>
        {
            double seconds = Math.Max(p.Elapsed.TotalSeconds, 0.001);
            string phase = p.Measuring ? $"measuring {p.Elapsed.TotalSeconds:F0} s, {p.Ops / seconds:N0} ops/s" : $"warming up {p.Elapsed.TotalSeconds:F0} s";
            context.Status(Markup.Escape($"{title}: {phase}, {p.Errors} errors"));
        }));
    }

    /// <summary>Writes whole lines through Spectre.Console, which keeps them above the live status line.</summary>
    private sealed class SpectreLineWriter : StringWriter
    {
        public override void WriteLine(string? value) => AnsiConsole.WriteLine(value ?? "");
    }
}
