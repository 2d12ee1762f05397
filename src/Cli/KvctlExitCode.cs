namespace KvActors.Cli;

/// <summary>kvctl's exit codes. Scripts read them (DESIGN.md "Commands"): never renumber one.</summary>
public static class KvctlExitCode
{
    /// <summary>The command did what it asked.</summary>
    public const int Ok = 0;

    /// <summary>An expected "no": <c>get</c> found no such key, or a <c>cas</c> compare failed ("conflict").</summary>
    public const int NotFoundOrConflict = 1;

    /// <summary>A malformed command line, or input the cluster refuses (InvalidArgument, TooLarge); nothing changed.</summary>
    public const int BadInput = 2;

    /// <summary>The cluster did not answer (no node reachable, no leader, deadline passed). A write may have applied
    /// when the reason says the deadline passed.</summary>
    public const int Unavailable = 3;

    /// <summary>Cancelled (Ctrl+C) or a bug in kvctl; the line on stderr says which.</summary>
    public const int Failed = 4;
}
