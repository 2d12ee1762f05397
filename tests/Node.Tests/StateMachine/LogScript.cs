using Google.Protobuf;
using KvActors.Node.StateMachine;
using KvActors.Protocol;
using KvActors.Protocol.Wire;

namespace KvActors.Node.Tests.StateMachine;

/// <summary>How a generated command picks its sequence number, relative to what its client sent last.</summary>
public enum SequenceChoice
{
    Next,    // last + 1: a new request
    Retry,   // the client's last request again, byte for byte: a retry after a timeout
    Older,   // last - 1, with new content: a stale or buggy client
    Jump,    // last + 3: requests that never reached the log
    One,     // 1 again: a client restarting its numbering
}

/// <summary>One generated step: a log entry (command, no-op, garbage) or a read outside the log.</summary>
public abstract record Step;

/// <summary>A command for the log; <paramref name="Client"/> -1 = no session.</summary>
public sealed record CommandStep(int Client, SequenceChoice Sequence, KvRequest Request) : Step
{
    public override string ToString() => Client < 0 ? $"Apply {Request}" : $"Apply client {Client} {Sequence} {Request}";
}

public sealed record NoOpStep : Step
{
    public override string ToString() => "NoOp";
}

public sealed record GarbageStep(byte[] Bytes) : Step
{
    public override string ToString() => $"Garbage {Convert.ToHexString(Bytes)}";
}

public sealed record ReadStep(KvRequest Request) : Step
{
    public override string ToString() => $"Read {Request}";
}

/// <summary>
/// Generated steps turned into concrete log entries: sequence choices resolved against what each client sent
/// before, so that a shrunk script still makes sense. An entry is a command's bytes, null for a no-op, or a read.
/// </summary>
internal sealed class LogScript
{
    public static readonly StateMachineSettings Settings = new()
    {
        MaxSessions = 3,
        Limits = new KvLimits { MaxKeyBytes = 8, MaxValueBytes = 16, MaxTxnOps = 3, MaxRangeLimit = 5, MaxRangeReplyBytes = 12 },
    };

    private LogScript(IReadOnlyList<Entry> entries) => Entries = entries;

    public IReadOnlyList<Entry> Entries { get; }

    public sealed record Entry(byte[]? Command, KvRequest? Read);

    public static LogScript From(IEnumerable<Step> steps)
    {
        var entries = new List<Entry>();
        var lastSequence = new Dictionary<int, ulong>();
        var lastBytes = new Dictionary<int, byte[]>();
        foreach (Step step in steps)
        {
            switch (step)
            {
                case NoOpStep:
                    entries.Add(new Entry(null, null));
                    break;
                case GarbageStep garbage:
                    entries.Add(new Entry(garbage.Bytes, null));
                    break;
                case ReadStep read:
                    entries.Add(new Entry(null, read.Request));
                    break;
                case CommandStep { Client: < 0 } command:
                    entries.Add(new Entry(command.Request.ToByteArray(), null));
                    break;
                case CommandStep command:
                    ulong last = lastSequence.GetValueOrDefault(command.Client);
                    if (command.Sequence == SequenceChoice.Retry && lastBytes.TryGetValue(command.Client, out byte[]? again))
                    {
                        entries.Add(new Entry(again, null));
                        break;
                    }
                    ulong sequence = command.Sequence switch
                    {
                        SequenceChoice.Older when last >= 2 => last - 1,
                        SequenceChoice.Jump => last + 3,
                        SequenceChoice.One => 1,
                        _ => last + 1,
                    };
                    KvRequest request = command.Request.Clone();
                    request.ClientId = Kv.ClientId((byte)(command.Client + 1));
                    request.Sequence = sequence;
                    byte[] bytes = request.ToByteArray();
                    entries.Add(new Entry(bytes, null));
                    lastSequence[command.Client] = Math.Max(last, sequence);
                    lastBytes[command.Client] = bytes;
                    break;
            }
        }
        return new LogScript(entries);
    }

    /// <summary>Feeds entries [from, to) to a state machine; returns its replies (reads included), in order.</summary>
    public List<KvReply> Run(KvStateMachine machine, int from = 0, int? to = null)
    {
        var replies = new List<KvReply>();
        for (int i = from; i < (to ?? Entries.Count); i++)
        {
            Entry entry = Entries[i];
            if (entry.Read is not null) replies.Add(machine.Read(entry.Read));
            else if (entry.Command is null) machine.AdvanceIndex(machine.AppliedIndex + 1);
            else replies.Add(machine.Apply(machine.AppliedIndex + 1, entry.Command));
        }
        return replies;
    }

    /// <summary>Feeds every entry to the model; returns its replies, in order.</summary>
    public List<KvReply> Run(ReferenceModel model)
    {
        var replies = new List<KvReply>();
        foreach (Entry entry in Entries)
        {
            if (entry.Read is not null) replies.Add(model.Read(entry.Read));
            else if (entry.Command is null) model.AdvanceIndex(model.AppliedIndex + 1);
            else replies.Add(model.Apply(model.AppliedIndex + 1, entry.Command));
        }
        return replies;
    }
}
