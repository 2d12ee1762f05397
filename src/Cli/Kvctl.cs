using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using KvActors.Client;
using KvActors.Protocol;
using KvActors.Protocol.Wire;

namespace KvActors.Cli;

/// <summary>
/// kvctl, the command line of a KvActors cluster: <c>put</c>, <c>get</c>, <c>del</c>, <c>range</c>, <c>cas</c>,
/// <c>status</c>, <c>node drain</c> and <c>node remove</c>, through the ClusterClient receptionists of <c>--endpoints</c>. Flags, output and exit codes are a
/// contract scripts read (DESIGN.md "Commands"; <see cref="KvctlExitCode"/>).
/// </summary>
public static class Kvctl
{
    /// <summary>The endpoints of the local cluster that <c>KvActors.Node local</c> starts.</summary>
    public const string DefaultEndpoints = "127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103";

    /// <summary>How long a command waits for the cluster when <c>--timeout</c> is not given, in seconds.</summary>
    public const double DefaultTimeoutSeconds = 10;

    /// <summary>How long <c>node drain</c> and <c>node remove</c> wait for the moves when <c>--wait</c> is not given, in seconds.</summary>
    public const double DefaultWaitSeconds = 600;

    /// <summary>How often <c>node drain</c> and <c>node remove</c> look at the cluster's status while they wait.</summary>
    private static readonly TimeSpan WaitPoll = TimeSpan.FromSeconds(1);

    /// <summary>How often <c>node remove</c> asks again while it waits: a shard manager that restarted forgot the first time.</summary>
    private static readonly TimeSpan RemoveRepeat = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Runs one kvctl command line. Results go to <paramref name="stdout"/>; on failure exactly one line saying why goes
    /// to <paramref name="stderr"/>.
    /// </summary>
    /// <param name="args">The arguments, without the program name.</param>
    /// <param name="stdout">Where results go: human text, or one JSON object per command with <c>--json</c>.</param>
    /// <param name="stderr">Where the reason for a non-zero exit goes.</param>
    /// <param name="cancellationToken">Stops the command (Ctrl+C); it then exits with <see cref="KvctlExitCode.Failed"/>.</param>
    /// <returns>The exit code: one of <see cref="KvctlExitCode"/>.</returns>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        var commands = new Commands(stdout, stderr);
        ParseResult parse = commands.Root.Parse(args);
        // Help and version clear parse errors (`kvctl --help` names no command); anything else with an error stops here,
        // with one line instead of System.CommandLine's errors-plus-help page.
        if (parse.Errors.Count > 0 && parse.Action is not { ClearsParseErrors: true })
        {
            // A word kvctl does not know says more than "required command was not provided", which it also causes.
            string reason = parse.UnmatchedTokens.Count > 0
                ? $"unknown command or argument '{parse.UnmatchedTokens[0]}'"
                : parse.Errors[0].Message;
            await stderr.WriteLineAsync($"kvctl: {OneLine(reason)} (kvctl --help for usage)").ConfigureAwait(false);
            return KvctlExitCode.BadInput;
        }
        var invocation = new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false };
        return await parse.InvokeAsync(invocation, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The option's number, or an error naming the option and the range: a validator cannot do this, since reading a value
    /// that failed to convert throws instead of reporting.
    /// </summary>
    private static double Number(ArgumentResult result, string option, double min, double max, bool wholeNumber = false)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        NumberStyles style = wholeNumber ? NumberStyles.None : NumberStyles.AllowDecimalPoint;
        if (double.TryParse(text, style, CultureInfo.InvariantCulture, out double value) && value >= min && value <= max) return value;
        result.AddError(wholeNumber
            ? $"{option} is '{text}'; it must be a whole number from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}"
            : $"{option} is '{text}'; it must be a number of seconds from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}");
        return min;
    }

    /// <summary>Collapses a message to one line: stderr carries one line per failure.</summary>
    internal static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();

    /// <summary>The command tree, with the writers its actions print to.</summary>
    private sealed class Commands
    {
        private readonly TextWriter _stdout;
        private readonly TextWriter _stderr;

        private readonly Option<string> _endpoints = new("--endpoints")
        {
            Description = "The nodes to contact, host:port,... (any one that is up will do)",
            DefaultValueFactory = _ => DefaultEndpoints,
            Recursive = true,
        };

        private readonly Option<bool> _json = new("--json") { Description = "Print one JSON object instead of text", Recursive = true };

        private readonly Option<double> _timeout = new("--timeout")
        {
            Description = "Seconds to wait for the cluster",
            DefaultValueFactory = _ => DefaultTimeoutSeconds,
            CustomParser = static result => Number(result, "--timeout", 0.001, 3600),
            Recursive = true,
        };

        public Commands(TextWriter stdout, TextWriter stderr)
        {
            _stdout = stdout;
            _stderr = stderr;
            _endpoints.Validators.Add(static result =>
            {
                try
                {
                    Endpoints.ParseList(result.GetValueOrDefault<string>() ?? "");
                }
                catch (FormatException e)
                {
                    result.AddError($"--endpoints: {e.Message}");
                }
            });
            Root = new RootCommand("kvctl: read and write a KvActors cluster") { _endpoints, _json, _timeout };
            Root.Subcommands.Add(Put());
            Root.Subcommands.Add(Get());
            Root.Subcommands.Add(Delete());
            Root.Subcommands.Add(Range());
            Root.Subcommands.Add(CompareAndSwap());
            Root.Subcommands.Add(Status());
            Root.Subcommands.Add(NodeCommand());
        }

        public RootCommand Root { get; }

        private Command Put()
        {
            var key = new Argument<string>("KEY") { Description = "The key (UTF-8)" };
            var value = new Argument<string>("VALUE") { Description = "The value (UTF-8)" };
            var command = new Command("put", "Set KEY to VALUE") { key, value };
            SetAction(command, async (parse, client, output, token) =>
            {
                string k = parse.GetValue(key)!;
                ulong revision = await client.PutAsync(k, parse.GetValue(value)!, cancellationToken: token).ConfigureAwait(false);
                await output.PutAsync(k, revision).ConfigureAwait(false);
                return KvctlExitCode.Ok;
            });
            return command;
        }

        private Command Get()
        {
            var key = new Argument<string>("KEY") { Description = "The key (UTF-8)" };
            var command = new Command("get", "Print the value of KEY; exit 1 with \"not found\" if it is absent") { key };
            SetAction(command, async (parse, client, output, token) =>
            {
                string k = parse.GetValue(key)!;
                KvEntry? entry = await client.GetAsync(k, cancellationToken: token).ConfigureAwait(false);
                await output.GetAsync(k, entry).ConfigureAwait(false);
                if (entry is not null) return KvctlExitCode.Ok;
                await _stderr.WriteLineAsync($"kvctl: not found: {k}").ConfigureAwait(false);
                return KvctlExitCode.NotFoundOrConflict;
            });
            return command;
        }

        private Command Delete()
        {
            var key = new Argument<string>("KEY") { Description = "The key (UTF-8)" };
            var command = new Command("del", "Remove KEY (an absent key is not an error)") { key };
            SetAction(command, async (parse, client, output, token) =>
            {
                string k = parse.GetValue(key)!;
                bool deleted = await client.DeleteAsync(k, cancellationToken: token).ConfigureAwait(false);
                await output.DeleteAsync(k, deleted).ConfigureAwait(false);
                return KvctlExitCode.Ok;
            });
            return command;
        }

        private Command Range()
        {
            var from = new Argument<string>("FROM") { Description = "The first key, inclusive; \"\" for from the first key" };
            var to = new Argument<string>("TO") { Description = "The key after the range, exclusive; \"\" for to the last key" };
            var limit = new Option<int>("--limit")
            {
                Description = "At most this many pairs (0: as many as one reply holds)",
                CustomParser = static result => (int)Number(result, "--limit", 0, int.MaxValue, wholeNumber: true),
            };
            var command = new Command("range", "Print the pairs in [FROM, TO) in key order") { from, to, limit };
            SetAction(command, async (parse, client, output, token) =>
            {
                // Keys are at least one byte long, so the one byte 0x00 is the first key there can be.
                string start = parse.GetValue(from) is { Length: > 0 } given ? given : "\0";
                KvRangeResult range = await client.RangeAsync(start, parse.GetValue(to)!, parse.GetValue(limit), cancellationToken: token)
                    .ConfigureAwait(false);
                await output.RangeAsync(range).ConfigureAwait(false);
                return KvctlExitCode.Ok;
            });
            return command;
        }

        private Command CompareAndSwap()
        {
            var key = new Argument<string>("KEY") { Description = "The key (UTF-8)" };
            var values = new Argument<string[]>("EXPECTED NEW")
            {
                Description = "The value KEY must have, then the value to write (only NEW with --expect-absent)",
                Arity = new ArgumentArity(1, 2),
            };
            var absent = new Option<bool>("--expect-absent") { Description = "Write NEW only if KEY does not exist" };
            var command = new Command("cas", "Write NEW to KEY only if KEY has value EXPECTED (or is absent); exit 1 with \"conflict\" otherwise")
            {
                key, values, absent,
            };
            command.Validators.Add(result =>
            {
                int count = result.GetValue(values)?.Length ?? 0;
                bool expectAbsent = result.GetValue(absent);
                if (expectAbsent && count != 1) result.AddError("cas KEY --expect-absent NEW takes one value after KEY");
                else if (!expectAbsent && count != 2) result.AddError("cas takes KEY EXPECTED NEW, or KEY --expect-absent NEW");
            });
            SetAction(command, async (parse, client, output, token) =>
            {
                string k = parse.GetValue(key)!;
                string[] v = parse.GetValue(values)!;
                CasExpectation expected = parse.GetValue(absent) ? CasExpectation.Absent : CasExpectation.Value(v[0]);
                KvCasResult result = await client.CompareAndSwapAsync(System.Text.Encoding.UTF8.GetBytes(k), expected,
                    System.Text.Encoding.UTF8.GetBytes(v[^1]), cancellationToken: token).ConfigureAwait(false);
                await output.CompareAndSwapAsync(k, result).ConfigureAwait(false);
                if (result.Succeeded) return KvctlExitCode.Ok;
                string now = result.Current is { } current
                    ? $"{k} has value '{current.ValueText}' (mod revision {current.ModRevision})"
                    : $"{k} does not exist";
                await _stderr.WriteLineAsync(OneLine($"kvctl: conflict: {now}; nothing written")).ConfigureAwait(false);
                return KvctlExitCode.NotFoundOrConflict;
            });
            return command;
        }

        private Command Status()
        {
            var command = new Command("status", "Print every node and every shard: leader, term, voters, learners, replica lag");
            SetAction(command, async (parse, client, output, token) =>
            {
                ClusterStatus status = await client.StatusAsync(token).ConfigureAwait(false);
                await output.StatusAsync(status).ConfigureAwait(false);
                return KvctlExitCode.Ok;
            });
            return command;
        }

        private Command NodeCommand()
        {
            var command = new Command("node", "Operate on one node: drain it, or remove a dead one");
            command.Subcommands.Add(Drain());
            command.Subcommands.Add(Remove());
            return command;
        }

        private Option<double> WaitOption() => new("--wait")
        {
            Description = "Seconds to wait until the moves are done (0: do not wait)",
            DefaultValueFactory = _ => DefaultWaitSeconds,
            CustomParser = static result => Number(result, "--wait", 0, 86400),
        };

        private Command Drain()
        {
            var id = new Argument<string>("ID") { Description = "The node's id, e.g. n3" };
            var cancel = new Option<bool>("--cancel") { Description = "End the drain: the node may hold replicas and lead shards again" };
            Option<double> wait = WaitOption();
            var command = new Command("drain",
                "Move every replica and leadership off node ID, then report it safe to stop (it takes none until the drain is cancelled)")
            {
                id, cancel, wait,
            };
            SetAction(command, async (parse, client, output, token) =>
            {
                string node = parse.GetValue(id)!;
                if (parse.GetValue(cancel))
                {
                    await client.CancelDrainAsync(node, cancellationToken: token).ConfigureAwait(false);
                    await output.DrainCancelledAsync(node).ConfigureAwait(false);
                    return KvctlExitCode.Ok;
                }
                await client.DrainNodeAsync(node, cancellationToken: token).ConfigureAwait(false);
                NodeStatus? last = null;
                bool drained = await WaitForAsync(client, output, parse.GetValue(wait), status =>
                {
                    last = status.Nodes.FirstOrDefault(n => n.Id == node);
                    return (last is null || last is { Replicas: 0, Leading: 0 }) && !Names(status, node);
                }, status => Holding(status, node), again: null, token).ConfigureAwait(false);
                if (!drained && parse.GetValue(wait) > 0)
                {
                    await _stderr.WriteLineAsync(
                        $"kvctl: {node} still holds {last?.Replicas ?? 0} replicas and leads {last?.Leading ?? 0} shards after {parse.GetValue(wait)} s; " +
                        "the drain goes on (kvctl status shows the moves)").ConfigureAwait(false);
                    return KvctlExitCode.Unavailable;
                }
                await output.DrainAsync(node, drained, last?.Replicas ?? 0, last?.Leading ?? 0).ConfigureAwait(false);
                return KvctlExitCode.Ok;
            });
            return command;
        }

        private Command Remove()
        {
            var id = new Argument<string>("ID") { Description = "The node's id, e.g. n3" };
            Option<double> wait = WaitOption();
            var command = new Command("remove",
                "Forget node ID, which must be down or unreachable, for good: every shard replaces its replica there now")
            {
                id, wait,
            };
            SetAction(command, async (parse, client, output, token) =>
            {
                string node = parse.GetValue(id)!;
                await client.RemoveNodeAsync(node, cancellationToken: token).ConfigureAwait(false);
                bool removed = await WaitForAsync(client, output, parse.GetValue(wait), status => !Names(status, node),
                    status => Holding(status, node), () => client.RemoveNodeAsync(node, cancellationToken: token), token).ConfigureAwait(false);
                if (!removed && parse.GetValue(wait) > 0)
                {
                    await _stderr.WriteLineAsync(
                        $"kvctl: some shards still have a replica on {node} after {parse.GetValue(wait)} s; the removal goes on (kvctl status shows the moves)")
                        .ConfigureAwait(false);
                    return KvctlExitCode.Unavailable;
                }
                await output.RemoveAsync(node, removed).ConfigureAwait(false);
                return KvctlExitCode.Ok;
            });
            return command;
        }

        /// <summary>
        /// Polls the cluster's status until <paramref name="done"/> holds (true) or <paramref name="waitSeconds"/> pass
        /// (false), printing <paramref name="progress"/> whenever it changes and calling <paramref name="again"/> every
        /// <see cref="RemoveRepeat"/>. A status that does not come in time is asked again.
        /// </summary>
        private static async Task<bool> WaitForAsync(KvClient client, KvctlOutput output, double waitSeconds, Func<ClusterStatus, bool> done,
            Func<ClusterStatus, string> progress, Func<Task>? again, CancellationToken token)
        {
            var waited = System.Diagnostics.Stopwatch.StartNew();
            TimeSpan limit = TimeSpan.FromSeconds(waitSeconds);
            TimeSpan lastAsked = TimeSpan.Zero;
            string? printed = null;
            while (true)
            {
                try
                {
                    ClusterStatus status = await client.StatusAsync(token).ConfigureAwait(false);
                    if (done(status)) return true;
                    if (progress(status) is var line && line != printed) await output.ProgressAsync(printed = line).ConfigureAwait(false);
                }
                catch (KvException e) when (e.Error == ErrorCode.Unavailable)
                {
                    // The Gateway may be moving or busy: the next poll asks again.
                }
                if (waited.Elapsed >= limit) return false;
                if (again is not null && waited.Elapsed - lastAsked >= RemoveRepeat)
                {
                    lastAsked = waited.Elapsed;
                    try
                    {
                        await again().ConfigureAwait(false);
                    }
                    catch (KvException)
                    {
                        // The first request was taken; a repeat refused (the node is forgotten by now) or unanswered changes nothing.
                    }
                }
                await Task.Delay(WaitPoll, token).ConfigureAwait(false);
            }
        }

        /// <summary>
        /// Whether any shard names <paramref name="node"/> as a voter, a learner or a replica, or might: a shard whose
        /// manager did not answer (it shows no voters, e.g. while it restarts on another node) counts as naming it.
        /// </summary>
        private static bool Names(ClusterStatus status, string node) =>
            status.Shards.Any(s => s.Voters.Count == 0 || s.Voters.Contains(node) || s.Learners.Contains(node) || s.Replicas.Any(r => r.Node == node));

        /// <summary>One line on what <paramref name="node"/> still holds, and the moves in progress.</summary>
        private static string Holding(ClusterStatus status, string node)
        {
            int[] shards = [.. status.Shards.Where(s => s.Voters.Contains(node) || s.Learners.Contains(node)).Select(s => (int)s.Id)];
            int leading = status.Shards.Count(s => s.HasLeader && s.Leader == node);
            int moving = status.Shards.Count(s => s.Move.Length > 0);
            int silent = status.Shards.Count(s => s.Voters.Count == 0);
            return $"{node}: member of {shards.Length} shards{(shards.Length > 0 ? " (" + string.Join(",", shards) + ")" : "")}, " +
                   $"leads {leading}; {moving} shards moving" + (silent > 0 ? $"; {silent} shards not reporting" : "");
        }

        /// <summary>
        /// Runs <paramref name="body"/> with a client connected to <c>--endpoints</c>, and turns every failure into an
        /// exit code and one line on stderr.
        /// </summary>
        private void SetAction(Command command, Func<ParseResult, KvClient, KvctlOutput, CancellationToken, Task<int>> body)
        {
            command.SetAction(async (parse, token) =>
            {
                IReadOnlyList<string> endpoints = Endpoints.ParseList(parse.GetValue(_endpoints)!);   // validated when parsed
                var options = new KvClientOptions { RequestDeadline = TimeSpan.FromSeconds(parse.GetValue(_timeout)) };
                var output = new KvctlOutput(_stdout, parse.GetValue(_json));
                try
                {
                    await using KvClient client = KvClient.Connect(endpoints, options, KvClientConfig.Silent);
                    return await body(parse, client, output, token).ConfigureAwait(false);
                }
                catch (KvException e)
                {
                    await _stderr.WriteLineAsync($"kvctl: {OneLine(e.Message)}").ConfigureAwait(false);
                    return e.Error is ErrorCode.InvalidArgument or ErrorCode.TooLarge ? KvctlExitCode.BadInput : KvctlExitCode.Unavailable;
                }
                catch (OperationCanceledException) when (token.IsCancellationRequested)
                {
                    await _stderr.WriteLineAsync("kvctl: cancelled; a write may have applied").ConfigureAwait(false);
                    return KvctlExitCode.Failed;
                }
                catch (Exception e)
                {
                    // The process boundary: a bug or an environment failure (e.g. the client's port) still ends in one line.
                    await _stderr.WriteLineAsync(OneLine($"kvctl: unexpected {e.GetType().Name}: {e.Message}")).ConfigureAwait(false);
                    return KvctlExitCode.Failed;
                }
            });
        }
    }
}
