// The node host is not written yet: say so and fail, rather than pretend to serve.
Console.Error.WriteLine("kvactors node: not available yet: the node host arrives with the sharded-cluster milestone");
return 2;
